"""The MFA policy with host login (docs/hosting.md): the host signs its users in, so a
client's or the provider's ``require_mfa`` is asked of the host (``acr_values`` of the
class ``urn:oidc-core:acr:mfa``, like a step-up) and a host that still reports a password
alone is refused; host users enrol no factor here (docs/security-checklist.md MFA-22, MFA-23).
"""

from __future__ import annotations

import dataclasses

import pytest
import webtest

from oidc_core import Provider, Settings, authn
from oidc_core.storage import Storage
from tests.conftest import make_client
from tests.flows.test_acr_host import (
    CALLBACK,
    OTP_SIGN_IN,
    SteppingHost,
    app,
    flow,
    host,
    id_token,
    provider_with_host,
    rp,
    sent_to_host,
)
from tests.flows.test_host_accounts import (
    ROOT_ISSUER,
    BillingUsers,
    _host_app,
    billing,
    root_settings,
)
from tests.support.account_pages import csrf, post
from tests.support.flow import RP, Flow, query_of
from tests.support.flow import Account as Person

__all__ = [  # the fixtures, shared with the host step-up tests
    "app",
    "billing",
    "flow",
    "host",
    "provider_with_host",
    "root_settings",
    "rp",
]

pytestmark = pytest.mark.mounts("one")


@pytest.fixture
def bank(storage: Storage) -> RP:
    return make_client(storage, "Bank", [CALLBACK], skip_consent=True, require_mfa=True)


def test_a_require_mfa_client_steps_up_through_the_host(
    app: webtest.TestApp, bank: RP, host: SteppingHost
) -> None:
    flow = Flow(app, bank, Person("", "", subject=""), scope="openid")
    host.sign_in(app, "1001")  # a password alone
    ask, back = sent_to_host(flow)
    assert ask == {"acr_values": [authn.ACR_MFA]}
    host.sign_in(app, "1001", OTP_SIGN_IN)  # the host asked for a second factor
    token = id_token(flow, app.get(back, status=303))
    assert (token["amr"], token["acr"]) == (["mfa", "otp", "pwd"], authn.ACR_MFA)


def test_a_host_that_still_reports_a_password_alone_is_refused(
    app: webtest.TestApp, bank: RP, host: SteppingHost
) -> None:
    flow = Flow(app, bank, Person("", "", subject=""), scope="openid")
    host.sign_in(app, "1001")
    _, back = sent_to_host(flow, state="s")
    refused = app.get(back, status=303)
    callback = query_of(refused.headers["Location"])
    assert refused.headers["Location"].startswith(CALLBACK + "?")
    assert callback["error"] == "unmet_authentication_requirements"
    assert (callback["state"], callback["iss"]) == ("s", ROOT_ISSUER)
    assert "code" not in callback
    silent = query_of(flow.start(prompt="none").headers["Location"])
    assert silent["error"] == "login_required" and "code" not in silent


def test_the_provider_wide_setting_is_asked_of_the_host(
    root_settings: Settings, storage: Storage, host: SteppingHost, rp: RP
) -> None:
    settings = dataclasses.replace(
        root_settings, host_login_url="https://billing.example/login", require_mfa=True
    )
    provider = Provider(settings, storage=storage, accounts=host, host_login=host.host_login)
    app = _host_app(provider)
    flow = Flow(app, rp, Person("", "", subject=""), scope="openid")
    host.sign_in(app, "1001")
    ask, back = sent_to_host(flow)
    assert ask == {"acr_values": [authn.ACR_MFA]}
    host.sign_in(app, "1001", ("pwd", "hwk"))
    assert id_token(flow, app.get(back, status=303))["acr"] == authn.ACR_PHISHING_RESISTANT


def test_without_a_host_login_page_a_password_alone_is_refused_at_once(
    root_settings: Settings, storage: Storage, host: SteppingHost, bank: RP
) -> None:
    provider = Provider(root_settings, storage=storage, accounts=host, host_login=host.host_login)
    app = _host_app(provider)
    flow = Flow(app, bank, Person("", "", subject=""), scope="openid")
    host.sign_in(app, "1001")
    login = app.get(flow.start(state="s").headers["Location"], status=303)
    callback = query_of(login.headers["Location"])
    assert callback["error"] == "unmet_authentication_requirements" and "code" not in callback


# -- MFA-23: host users enrol no factor here -------------------------------------------------------


def test_host_users_cannot_enrol_a_factor_on_the_account_pages(
    app: webtest.TestApp, host: SteppingHost, billing: BillingUsers, storage: Storage
) -> None:
    host.sign_in(app, "1001")
    managed = "Your sign-in is managed by the site you signed in with"
    security = app.get("/account/security")
    assert security.status_int == 200 and managed in security.text
    assert "/account/security/totp" not in security.text
    passkeys = app.get("/account/passkeys")
    assert managed in passkeys.text and "passkey-register" not in passkeys.text
    token = csrf(app, "/account/security")
    for path in (
        "/account/security/totp",
        "/account/security/totp/confirm",
        "/account/security/totp/remove",
        "/account/security/recovery-codes",
        "/account/passkeys/options",
        "/account/passkeys/add",
    ):
        refused = post(app, path, {"code": "123456", "proof": "x", "name": "Key"}, token=token)
        assert refused.status_int == 403, (path, refused.status)
        assert "Traceback" not in refused.text
    user = storage.users.for_external("1001")
    assert not storage.factors.enrolled(user.id).any
    assert storage.factors.totp(user.id) is None
