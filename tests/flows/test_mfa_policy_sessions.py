"""The MFA policy holds for sessions that already exist (``mfa.policy.short_of_policy``):
a session signed in with a password alone, before a client or the provider required a
second factor, before the user enrolled one elsewhere, or before an administrator had
to use one, is sent to sign in again (password and second step, or enrolment) instead of
getting a code or the console (docs/security-checklist.md MFA-18 to MFA-21).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import webtest

from oidc_core import Provider, Settings, authn
from oidc_core.storage import Storage
from tests.conftest import make_user
from tests.flows.test_mfa_policy import enrol_within_sign_in, require_mfa_client
from tests.support import account_pages, admin_console
from tests.support.account_pages import provider_with
from tests.support.admin_console import admin as admin
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token
from tests.support.mfa import enrol, second_factor_page, second_step

pytestmark = pytest.mark.mounts("one")


def signed_in_with_a_password(app: webtest.TestApp, user: Account) -> None:
    """The browser signs in on the account pages: a session of ``pwd`` alone."""
    response = account_pages.sign_in(app, user.email, user.password)
    assert response.status_int == 303, response.text[:500]
    assert app.get("/account/").status_int == 200


def sent_to_login(started: webtest.TestResponse) -> str:
    """The authorization request was parked for the login page: its address."""
    assert started.status_int == 303, (started.status, started.text[:500])
    location = started.headers["Location"]
    assert urlsplit(location).path.endswith("/login"), location
    return location


def id_token_claims(flow: Flow, response: webtest.TestResponse) -> dict[str, object]:
    callback = query_of(response.headers["Location"])
    assert "code" in callback, callback
    token = flow.token(callback["code"])
    assert token.status_int == 200, token.text
    return verify_id_token(flow.app, token.json["id_token"], flow.client.client_id)


# -- MFA-18: a client's require_mfa ----------------------------------------------------------------


def test_a_password_session_at_a_client_that_requires_mfa_enrols_first(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    """The reviewer's attack: signed in at /account/login, then /authorize at a client
    with require_mfa: no code with amr ["pwd"]; the login page leads through enrolment."""
    bank = require_mfa_client(storage)
    signed_in_with_a_password(app, alice)
    flow = Flow(app, bank, alice)
    location = sent_to_login(flow.start())
    page = app.get(location)
    assert 'name="password"' in page.text
    # the parked request cannot be finished at the consent page instead
    consent_url = location.replace("/login?", "/consent?")
    shown = app.get(consent_url, expect_errors=True)
    assert shown.status_int == 303 and shown.headers["Location"] == location
    allowed = flow.consent(page)
    assert allowed.status_int == 303 and allowed.headers["Location"] == location

    _, next_page = enrol_within_sign_in(app, flow.login(page), "/login/second-factor")
    claims = id_token_claims(flow, flow.consent(app.get(next_page)))
    assert claims["sub"] == alice.subject
    assert (claims["amr"], claims["acr"]) == (["mfa", "otp", "pwd"], authn.ACR_MFA)


def test_prompt_none_with_a_password_session_gets_login_required(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    bank = require_mfa_client(storage)
    signed_in_with_a_password(app, alice)
    flow = Flow(app, bank, alice)
    response = flow.start(prompt="none", state="s")
    assert response.status_int == 302, response.text[:500]
    callback = query_of(response.headers["Location"])
    assert callback["error"] == "login_required" and callback["state"] == "s"
    assert "code" not in callback


def test_other_clients_still_issue_at_once_to_a_password_session(
    app: webtest.TestApp, storage: Storage, client_a: RP, alice: Account
) -> None:
    """A user without a factor at a client without require_mfa: the session serves."""
    require_mfa_client(storage)
    signed_in_with_a_password(app, alice)
    assert "code" in Flow(app, client_a, alice).authorize()
    assert "code" in Flow(app, client_a, alice).authorize(prompt="none")


# -- MFA-19: the provider-wide setting -------------------------------------------------------------


def test_the_provider_wide_setting_holds_for_an_older_session(
    settings: Settings, storage: Storage, provider: Provider, client_a: RP, alice: Account
) -> None:
    """A session signed in before ``require_mfa`` was set (the same browser, the same
    database) is asked to sign in again, prompt=none gets login_required."""
    before = provider_with(settings, storage)
    signed_in_with_a_password(before, alice)
    after = provider_with(settings, storage, require_mfa=True)
    after.cookiejar = before.cookiejar
    flow = Flow(after, client_a, alice)
    page = after.get(sent_to_login(flow.start()))
    silent = query_of(flow.start(prompt="none").headers["Location"])
    assert silent["error"] == "login_required" and "code" not in silent
    _, next_page = enrol_within_sign_in(after, flow.login(page), "/login/second-factor")
    claims = id_token_claims(flow, flow.consent(after.get(next_page)))
    assert claims["amr"] == ["mfa", "otp", "pwd"]


# -- MFA-20: a factor enrolled after the session signed in ----------------------------------------


def test_a_factor_enrolled_elsewhere_is_asked_of_an_older_session(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    signed_in_with_a_password(app, alice)
    device = enrol(account_pages.browser(provider, alice))  # in another browser
    flow = Flow(app, client_a, alice)
    page = app.get(sent_to_login(flow.start()))
    asked = flow.login(page)
    second_factor_page(asked, "/login/second-factor")
    assert "Enter the code from your authenticator app" in asked.text
    done = second_step(app, asked, device.code())
    assert done.status_int == 303, done.text[:500]
    claims = id_token_claims(flow, flow.consent(app.get(done.headers["Location"])))
    assert (claims["amr"], claims["acr"]) == (["mfa", "otp", "pwd"], authn.ACR_MFA)
    # the session now has its second factor: the next request is served at once
    assert "code" in flow.authorize(prompt="none")


# -- MFA-21: the admin console ---------------------------------------------------------------------


ROOT = Account(admin_console.ADMIN_EMAIL, admin_console.ADMIN_PASSWORD, "")


def test_an_admin_session_older_than_the_admins_factor_signs_in_again(
    provider: Provider, admin: webtest.TestApp
) -> None:
    token = admin_console.token_of(admin)
    device = enrol(account_pages.browser(provider, ROOT))  # the admin's factor, elsewhere
    refused = admin.get("/admin/users", expect_errors=True)
    assert refused.status_int == 303 and refused.headers["Location"].endswith("/admin/login")
    form = admin.get("/admin/login")  # the form, not a loop back to the console
    assert form.status_int == 200 and "sign in again" in form.text
    form_fields = admin_console.client_form()
    changed = admin_console.post(admin, "/admin/clients/new", form_fields, csrf=token)
    assert changed.status_int == 303 and changed.headers["Location"].endswith("/admin/login")
    asked = admin_console.sign_in(admin, ROOT.email, ROOT.password)
    second_factor_page(asked, "/admin/login/second-factor")
    done = second_step(admin, asked, device.code())
    assert done.status_int == 303 and done.headers["Location"].endswith("/admin/")
    assert "Control panel" not in admin.get("/admin/").text  # nothing was created


@pytest.mark.parametrize("setting", ["require_mfa_for_admins", "require_mfa"])
def test_an_admin_session_older_than_the_setting_signs_in_again(
    settings: Settings, storage: Storage, provider: Provider, setting: str
) -> None:
    make_user(provider, ROOT.email, ROOT.password, is_admin=True)
    before = provider_with(settings, storage)
    assert admin_console.sign_in(before, ROOT.email, ROOT.password).status_int == 303
    assert before.get("/admin/").status_int == 200
    after = provider_with(settings, storage, **{setting: True})
    after.cookiejar = before.cookiejar
    refused = after.get("/admin/")
    assert refused.status_int == 303 and refused.headers["Location"].endswith("/admin/login")
    asked = admin_console.sign_in(after, ROOT.email, ROOT.password)
    _, location = enrol_within_sign_in(after, asked, "/admin/login/second-factor")
    assert location.endswith("/admin/")
    assert after.get("/admin/").status_int == 200
