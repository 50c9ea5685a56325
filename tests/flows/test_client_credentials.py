"""The client credentials grant, RFC 6749 section 4.4 (SECURITY-CHECKLIST T-41, R-CL-6).

Only for confidential clients an administrator allowed it (``grant_types`` contains
``client_credentials``); no ID token, no refresh token; scopes from the client's allowed
scopes without the user's ``openid`` and ``offline_access``.
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core.storage import Storage
from tests.conftest import make_client
from tests.support.flow import RP
from tests.support.token_endpoint import assert_error
from tests.support.tokens import post_as, userinfo_status

MACHINE_GRANTS = ("authorization_code", "client_credentials")


@pytest.fixture
def machine(storage: Storage) -> RP:
    return make_client(
        storage,
        "Machine",
        ["https://machine.example/cb"],
        allowed_scopes="openid profile email offline_access",
        grant_types=MACHINE_GRANTS,
    )


def client_token(
    app: webtest.TestApp, rp: RP | None, auth: str = "basic", **extra: Any
) -> webtest.TestResponse:
    return post_as(app, "/token", rp, {"grant_type": "client_credentials", **extra}, auth)


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_allowed_client_gets_an_access_token(app: webtest.TestApp, machine: RP, auth: str) -> None:
    response = client_token(app, machine, auth, scope="profile")

    assert response.status_int == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert "refresh_token" not in body and "id_token" not in body
    assert body["scope"] == "profile"
    assert len(body["access_token"]) >= 43

    introspected = post_as(app, "/introspect", machine, {"token": body["access_token"]}).json
    assert introspected["active"] is True
    assert introspected["client_id"] == machine.client_id
    assert introspected["scope"] == "profile"
    assert "sub" not in introspected  # no user
    assert userinfo_status(app, body["access_token"]) == 401  # no user to describe


def test_without_scope(app: webtest.TestApp, machine: RP) -> None:
    response = client_token(app, machine)
    assert response.status_int == 200, response.text
    token = response.json["access_token"]
    assert post_as(app, "/introspect", machine, {"token": token}).json["scope"] == ""


@pytest.mark.parametrize("scope", ["openid", "offline_access", "profile admin", "phone"])
def test_scopes_are_limited(
    app: webtest.TestApp, machine: RP, storage: Storage, scope: str
) -> None:
    assert_error(client_token(app, machine, scope=scope), 400, "invalid_scope")


def test_scope_not_allowed_for_the_client(app: webtest.TestApp, storage: Storage) -> None:
    narrow = make_client(
        storage, "Narrow", ["https://n.example/cb"], allowed_scopes="openid",
        grant_types=MACHINE_GRANTS,
    )  # fmt: skip
    assert_error(client_token(app, narrow, scope="email"), 400, "invalid_scope")


def test_clients_not_allowed_get_unauthorized_client(app: webtest.TestApp, client_a: RP) -> None:
    assert_error(client_token(app, client_a), 400, "unauthorized_client")


def test_client_revokes_its_token(app: webtest.TestApp, machine: RP) -> None:
    token = client_token(app, machine).json["access_token"]
    assert post_as(app, "/revoke", machine, {"token": token}).status_int == 200
    assert post_as(app, "/introspect", machine, {"token": token}).json == {"active": False}


def test_authentication_is_required(app: webtest.TestApp, machine: RP) -> None:
    wrong = RP(machine.client_id, "wrong", machine.redirect_uris)
    response = client_token(app, wrong)
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert_error(client_token(app, machine, auth="public"), 401, "invalid_client")
    assert_error(client_token(app, None), 401, "invalid_client")
