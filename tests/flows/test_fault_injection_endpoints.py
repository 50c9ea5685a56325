"""The database unreachable: every endpoint family answers a 503 (T-66), discovery and
the JWK Set answer from the cache (T-72).

The faults are real ones at the driver boundary (:mod:`tests.support.faults`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import new_app
from tests.support.account_pages import browser
from tests.support.admin_api import new_token
from tests.support.fault_injection import faults as faults
from tests.support.fault_injection import (
    is_unavailable_json,
    is_unavailable_page,
    signed_in_consent_page,
)
from tests.support.faults import Faults
from tests.support.flow import RP, Account, Flow
from tests.support.mounts import build
from tests.support.tokens import post_as

# The answers go through the host framework: every test here is marked mounts("every").
pytestmark = pytest.mark.mounts("one")


# -- T-66: every endpoint family, the database unreachable -------------------------------


@pytest.mark.mounts("every")
def test_t66_browser_endpoints_answer_a_503_page_without_redirect(
    provider: Provider,
    app: webtest.TestApp,
    faults: Faults,
    client_a: RP,
    alice: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow = Flow(app, client_a, alice)
    login_page = app.get(flow.start().headers["Location"])
    consent_page = signed_in_consent_page(new_app(provider), client_a, alice)
    account = browser(provider, alice)
    requests: dict[str, Callable[[], webtest.TestResponse]] = {
        "authorize": flow.start,
        "login": lambda: flow.login(login_page),
        "consent": lambda: Flow(consent_page.test_app, client_a, alice).consent(consent_page),
        "end_session": lambda: app.get("/end_session", expect_errors=True),
        "account": lambda: account.get("/account/", expect_errors=True),
        "account sign-in": lambda: new_app(provider).get("/account/login", expect_errors=True),
        "admin console": lambda: app.get("/admin/login", expect_errors=True),
    }
    for name, request in requests.items():
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="oidc_core.provider"), faults.down() as fault:
            response = request()
        assert fault.fired, f"{name} did not reach the database"
        assert is_unavailable_page(response), (name, response.status, response.text[:300])
        correlation = response.text.split("correlation id ")[1][:16]
        assert correlation in caplog.text, name


@pytest.mark.mounts("every")
def test_t66_api_endpoints_answer_temporarily_unavailable_json(
    provider: Provider,
    app: webtest.TestApp,
    faults: Faults,
    client_a: RP,
    alice: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow = Flow(app, client_a, alice)
    code = flow.authorize()["code"]
    access = flow.token(code).json["access_token"]
    bearer = {"Authorization": "Bearer " + access}
    admin = {"Authorization": "Bearer " + new_token(provider)[1]}
    requests: dict[str, Callable[[], webtest.TestResponse]] = {
        "token": lambda: flow.token(code),
        "userinfo": lambda: app.get("/userinfo", headers=bearer, expect_errors=True),
        "revoke": lambda: post_as(app, "/revoke", client_a, {"token": access}),
        "introspect": lambda: post_as(app, "/introspect", client_a, {"token": access}),
        "admin API": lambda: app.get("/admin/api/clients", headers=admin, expect_errors=True),
    }
    for name, request in requests.items():
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="oidc_core.provider"), faults.down() as fault:
            response = request()
        assert fault.fired, f"{name} did not reach the database"
        assert is_unavailable_json(response), (name, response.status, response.text[:300])
        correlation = response.json["error_description"].split("correlation id ")[1][:16]
        assert correlation in caplog.text, name
    # and the database back, everything works again
    assert app.get("/userinfo", headers=bearer).status_int == 200


# -- T-72: discovery and the JWK Set without the database -------------------------------


@pytest.mark.mounts("every")
def test_t72_discovery_and_jwks_answer_from_the_cache_while_the_database_is_down(
    app: webtest.TestApp, faults: Faults
) -> None:
    keys = app.get("/jwks").json
    metadata = app.get("/.well-known/openid-configuration").json
    with faults.down():
        assert app.get("/jwks").json == keys
        assert app.get("/.well-known/openid-configuration").json == metadata


@pytest.mark.mounts("every")
def test_t72_an_expired_key_cache_serves_the_last_key_set_while_the_database_is_down(
    provider: Provider, app: webtest.TestApp, faults: Faults, caplog: pytest.LogCaptureFixture
) -> None:
    keys = app.get("/jwks").json
    provider.keys.invalidate()  # as if key_cache_seconds had passed
    with caplog.at_level(logging.WARNING, logger="oidc_core.keys"), faults.down() as fault:
        assert app.get("/jwks").json == keys
        assert app.get("/jwks").json == keys  # not retried at once: one failed reload
    assert fault.count == 1 and "keeping the signing keys" in caplog.text
    provider.keys.invalidate()
    assert app.get("/jwks").json == keys  # the database back: read again


@pytest.mark.mounts("every")
def test_t72_a_process_that_never_read_its_keys_answers_503(
    mount_name: str, settings: Settings, storage: Storage, faults: Faults
) -> None:
    cold = build(mount_name, settings, storage).browser()  # a new Provider: a new process
    with faults.down():
        response = cold.get("/jwks", expect_errors=True)
    assert is_unavailable_json(response)
