"""Two-step sign-in with an authenticator app (RFC 6238) at all three sign-in places:
the login page of an authorization request, the account pages and the admin console.

The app is enrolled through the account pages; ID tokens are verified with PyJWT.
"""

from __future__ import annotations

import re

import webtest

from oidc_core import Provider
from tests.conftest import make_user, new_app
from tests.support import account_pages, admin_console
from tests.support.console_pages import session_key
from tests.support.flow import RP, Account, Flow, hidden, issuer_of, query_of, verify_id_token
from tests.support.mfa import Authenticator, action_of, enrol, second_factor_page, second_step


def enrolled(provider: Provider, user: Account) -> Authenticator:
    return enrol(account_pages.browser(provider, user))


def to_second_step(flow: Flow) -> webtest.TestResponse:
    """Authorize and post the right password: the second-factor page."""
    login_page = flow.app.get(flow.start().headers["Location"])
    page = second_factor_page(flow.login(login_page), "/login/second-factor")
    assert "interaction=" in action_of(page)
    return page


def test_enrolment_shows_a_qr_code_inline_and_the_secret(
    provider: Provider, alice: Account
) -> None:
    app = account_pages.browser(provider, alice)
    page = app.get("/account/security")
    assert "Two-step verification is off." in page.text
    setup = account_pages.post(app, "/account/security/totp", token=hidden(page, "csrf_token"))
    assert re.search(r'<figure class="qr"><svg [^>]*class="segno"', setup.text)
    assert "<img" not in setup.text and "data:image" not in setup.text
    assert "img-src" in setup.headers["Content-Security-Policy"]
    device = enrol(app)  # a new secret each time the setup starts
    status = app.get("/account/security")
    assert "Two-step verification is on." in status.text
    assert "Recovery codes left: 10" in status.text
    assert len(set(device.recovery_codes)) == 10


def test_the_login_page_asks_for_the_code_and_the_id_token_says_mfa(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    device = enrolled(provider, alice)
    flow = Flow(app, client_a, alice)
    page = to_second_step(flow)
    assert app.get("/account/").status_int == 303  # not signed in yet
    response = second_step(app, page, device.code())
    assert response.status_int == 303, response.text[:500]
    consent = app.get(response.headers["Location"])
    callback = query_of(flow.consent(consent).headers["Location"])
    token = flow.token(callback["code"])
    assert token.status_int == 200, token.text
    claims = verify_id_token(app, token.json["id_token"], client_a.client_id)
    assert claims["sub"] == alice.subject
    session = provider.storage.sessions.by_key(app.cookies["oidc_session"])
    assert session is not None and session.amr == ("mfa", "otp", "pwd")


def test_the_session_key_changes_only_at_the_end_of_the_second_step(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    device = enrolled(provider, alice)
    flow = Flow(app, client_a, alice)
    login_page = app.get(flow.start().headers["Location"])
    before = app.cookies["oidc_session"]
    page = second_factor_page(flow.login(login_page), "/login/second-factor")
    assert app.cookies["oidc_session"] == before  # nobody is signed in yet
    done = second_step(app, page, device.code())
    assert session_key(done) != before


def test_the_account_pages_ask_for_the_code(provider: Provider, alice: Account) -> None:
    device = enrolled(provider, alice)
    app = new_app(provider)
    response = account_pages.sign_in(app, alice.email, alice.password)
    page = second_factor_page(response, "/account/login/second-factor")
    assert app.get("/account/").status_int == 303
    assert app.get("/account/login/second-factor").text == page.text  # shown again on GET
    assert 'autocomplete="one-time-code"' in page.text
    done = second_step(app, page, device.code())
    assert done.status_int == 303
    assert done.headers["Location"] == issuer_of(app) + "/account/"
    assert app.get("/account/").status_int == 200


def test_the_admin_console_asks_for_the_code(provider: Provider) -> None:
    admin = make_user(
        provider, admin_console.ADMIN_EMAIL, admin_console.ADMIN_PASSWORD, is_admin=True
    )
    device = enrolled(provider, admin)
    app = new_app(provider)
    response = admin_console.sign_in(app, admin.email, admin.password)
    page = second_factor_page(response, "/admin/login/second-factor")
    assert app.get("/admin/").status_int == 303
    wrong = second_step(app, page, device.wrong())
    assert wrong.status_int == 401 and "The code is not correct." in wrong.text
    done = second_step(app, page, device.code())
    assert done.headers["Location"] == issuer_of(app) + "/admin/"
    assert app.get("/admin/").status_int == 200


def test_users_without_a_factor_sign_in_with_the_password_alone(
    app: webtest.TestApp, flow: Flow
) -> None:
    assert "code" in flow.authorize()


def test_a_wrong_code_is_refused_with_one_message_and_signs_nobody_in(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    enrolled(provider, alice)
    page = to_second_step(Flow(app, client_a, alice))
    for n, code in enumerate(("123", "abcdef", "", "\uff11" * 6, "9" * 64), 1):
        response = second_step(app, page, code)
        assert response.status_int == 401, (code, response.status)
        message = "The code is not correct." if n < 5 else "Too many wrong codes. Sign in again."
        assert message in response.text  # the fifth ends the half-done sign-in (MFA-16)
    assert app.get("/account/").status_int == 303


def test_a_password_change_keeps_the_sessions_second_factor(
    provider: Provider, alice: Account
) -> None:
    device = enrolled(provider, alice)
    app = new_app(provider)
    page = second_factor_page(
        account_pages.sign_in(app, alice.email, alice.password), "/account/login/second-factor"
    )
    assert second_step(app, page, device.code()).status_int == 303
    changed = account_pages.change_password(app, alice.password, "a new long password")
    assert changed.status_int == 303
    session = provider.storage.sessions.by_key(app.cookies["oidc_session"])
    assert session is not None and session.amr == ("mfa", "otp", "pwd")
