"""A passkey or security key as the second step after a password, at all three sign-in
places (the login page of an authorization request, the account pages, the admin
console): the second-factor page offers "Use a passkey" to a user who has one, its
options (``second_factor=1``) name that user's keys only, and the answer ends the step
with ``pwd`` and ``hwk`` (or ``swk``): ``mfa``, acr ``phr``.  Another user's key, an answer
to a passwordless sign-in's challenge, a missing token or half-done sign-in are refused
and sign nobody in; failures count against the address.  ID tokens are verified with
PyJWT; the browser's part is played by a software authenticator.
"""

from __future__ import annotations

import dataclasses

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import make_user, new_app
from tests.support import account_pages, admin_console
from tests.support.authenticator import SoftAuthenticator, b64url
from tests.support.flow import RP, Account, Flow, hidden, issuer_of, query_of, verify_id_token
from tests.support.mfa import enrol, recovery_codes_of, second_factor_page, second_step, session_amr
from tests.support.passkeys import (
    FORM,
    add,
    authenticator_for,
    post_assertion,
    post_second_factor,
    request_options,
    second_factor_options,
    second_factor_with,
)

pytestmark = pytest.mark.mounts("one")

STEP_FAILED = "This passkey could not be used. Try again, or enter a code instead."


def security_key(
    provider: Provider, user: Account, passwordless: bool = False, **kwargs: object
) -> SoftAuthenticator:
    """A key of ``user`` added on the account pages (by default not for signing in without
    a password: a second factor only)."""
    app = account_pages.browser(provider, user)
    key = authenticator_for(app, **kwargs)
    response = add(app, key, "Security key", passwordless=passwordless, proof=user.password)
    assert response.status_int == 303, response.text[:300]
    return key


def login_second_step(flow: Flow) -> webtest.TestResponse:
    """Authorize and post the right password on the login page: the second-factor page."""
    login_page = flow.app.get(flow.start().headers["Location"])
    return second_factor_page(flow.login(login_page), "/login/second-factor")


def account_second_step(app: webtest.TestApp, user: Account) -> webtest.TestResponse:
    response = account_pages.sign_in(app, user.email, user.password)
    return second_factor_page(response, "/account/login/second-factor")


def test_password_then_security_key_through_an_authorization_request(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    """PK-16: a user whose only factor is a security key is offered it (and no code is
    asked of them first); the ID token says pwd + hwk: mfa, acr phr."""
    key = security_key(provider, alice)
    key.verifies_user = False  # a plain security key: a touch, no PIN
    flow = Flow(app, client_a, alice)
    page = login_second_step(flow)
    assert 'id="passkey-second-factor"' in page.text and "Use a passkey" in page.text
    assert "Use your passkey or security key to finish signing in." in page.text
    assert "authenticator app" not in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    options = second_factor_options(app, page)
    assert options.status_int == 200, options.text
    assert options.json["rpId"] == "op.example"
    assert options.json["userVerification"] == "preferred"
    assert [c["id"] for c in options.json["allowCredentials"]] == [b64url(key.credential_id)]
    assert app.get("/account/").status_int == 303  # not signed in yet
    response = post_second_factor(app, page, key.get(options.json))
    assert response.status_int == 303, response.text[:500]
    consent = app.get(response.headers["Location"])
    callback = query_of(flow.consent(consent).headers["Location"])
    token = flow.token(callback["code"])
    assert token.status_int == 200, token.text
    claims = verify_id_token(app, token.json["id_token"], client_a.client_id)
    assert claims["sub"] == alice.subject
    assert claims["amr"] == ["hwk", "mfa", "pwd"] and claims["acr"] == "phr"
    assert session_amr(provider, app) == ("hwk", "mfa", "pwd")


def test_password_then_passkey_on_the_account_pages(provider: Provider, alice: Account) -> None:
    """A key that verified the user adds ``user``; a synced one is ``swk``."""
    key = security_key(provider, alice, synced=True)
    app = new_app(provider)
    page = account_second_step(app, alice)
    assert app.get("/account/login/second-factor").text == page.text  # shown again on GET
    response = second_factor_with(app, page, key)
    assert response.status_int == 303, response.text[:500]
    assert response.headers["Location"] == issuer_of(app) + "/account/"
    assert app.get("/account/").status_int == 200
    assert session_amr(provider, app) == ("mfa", "pwd", "swk", "user")


def test_password_then_security_key_in_the_admin_console(provider: Provider) -> None:
    admin = make_user(
        provider, admin_console.ADMIN_EMAIL, admin_console.ADMIN_PASSWORD, is_admin=True
    )
    key = security_key(provider, admin)
    app = new_app(provider)
    response = admin_console.sign_in(app, admin.email, admin.password)
    page = second_factor_page(response, "/admin/login/second-factor")
    assert app.get("/admin/").status_int == 303
    done = second_factor_with(app, page, key)
    assert done.status_int == 303, done.text[:500]
    assert done.headers["Location"] == issuer_of(app) + "/admin/"
    assert app.get("/admin/").status_int == 200
    assert session_amr(provider, app) == ("hwk", "mfa", "pwd", "user")


def test_a_user_with_an_app_and_a_key_may_use_either(
    provider: Provider, client_a: RP, alice: Account
) -> None:
    """The page asks for the app's code first and offers the key beside it."""
    app = account_pages.browser(provider, alice)
    device = enrol(app)
    key = authenticator_for(app)
    assert add(app, key, "Key", passwordless=False, proof=alice.password).status_int == 303
    flow = Flow(new_app(provider), client_a, alice)
    page = login_second_step(flow)
    assert "Enter the code from your authenticator app" in page.text
    assert 'id="passkey-second-factor"' in page.text
    assert second_step(flow.app, page, device.code()).status_int == 303
    other = Flow(new_app(provider), client_a, alice)
    done = second_factor_with(other.app, login_second_step(other), key)
    assert done.status_int == 303, done.text[:500]


def test_a_user_without_a_key_is_offered_none(
    provider: Provider, app: webtest.TestApp, alice: Account
) -> None:
    enrol(account_pages.browser(provider, alice))
    page = account_second_step(app, alice)
    assert "passkey" not in page.text.lower()
    assert "script-src" not in page.headers["Content-Security-Policy"]


def test_another_users_key_is_refused_at_the_step(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account, bob: Account
) -> None:
    """PK-17: Bob's key (claiming Alice's user handle or not) does not finish Alice's
    sign-in: 401 with one message, nobody signed in; Alice's own key still does."""
    alices = security_key(provider, alice)
    bobs = security_key(provider, bob)
    flow = Flow(app, client_a, alice)
    page = login_second_step(flow)
    for lie in ({}, {"user_handle": alice.subject.encode()}):
        response = second_factor_with(app, page, bobs, **lie)
        assert response.status_int == 401, response.status
        assert STEP_FAILED in response.text
        assert 'id="passkey-failed" role="alert">' in response.text  # shown, not hidden
        assert session_amr(provider, app) is None
    assert second_factor_with(app, page, alices).status_int == 303


LIES = {
    "other-origin": {"origin": "https://evil.example"},
    "other-rp-id": {"rp_id": "evil.example"},
    "other-user-handle": {"user_handle": b"somebody else"},
}


@pytest.mark.parametrize("lie", LIES.values(), ids=LIES.keys())
def test_an_answer_for_another_site_is_refused_at_the_step(
    provider: Provider, app: webtest.TestApp, alice: Account, lie: dict[str, object]
) -> None:
    key = security_key(provider, alice)
    page = account_second_step(app, alice)
    response = second_factor_with(app, page, key, **lie)
    assert response.status_int == 401 and STEP_FAILED in response.text
    assert session_amr(provider, app) is None


def test_a_passwordless_challenge_is_refused_at_the_step_and_the_reverse(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    """PK-18: each challenge answers only the ceremony it was made for: an assertion for
    the login page's passwordless options does not finish the second step, and one for
    the step's options does not sign in without a password (the key could do either)."""
    key = security_key(provider, alice, passwordless=True)
    flow = Flow(app, client_a, alice)
    login_page = app.get(flow.start().headers["Location"])
    page = second_factor_page(flow.login(login_page), "/login/second-factor")
    passwordless = request_options(app, login_page)
    assert passwordless.status_int == 200 and passwordless.json["allowCredentials"] == []
    response = post_second_factor(app, page, key.get(passwordless.json))
    assert response.status_int == 401 and STEP_FAILED in response.text
    assert session_amr(provider, app) is None

    other = new_app(provider)
    account_page = other.get("/account/login")
    step_page = account_second_step(other, alice)
    step_options = second_factor_options(other, step_page)
    assert step_options.status_int == 200
    response = post_assertion(other, account_page, key.get(step_options.json))
    assert response.status_int == 401
    assert session_amr(provider, other) is None


def test_the_step_options_need_a_half_done_sign_in(
    provider: Provider, app: webtest.TestApp, alice: Account
) -> None:
    """Without a password given in this browser the options for a second factor are a
    400 JSON error; after the step ended (the session under a new key) they are refused
    too."""
    key = security_key(provider, alice)
    login = app.get("/account/login")
    refused = second_factor_options(app, login)
    assert refused.status_int == 400, refused.status
    assert refused.json["error"] == "invalid_request"
    page = account_second_step(app, alice)
    assert second_factor_with(app, page, key).status_int == 303
    again = second_factor_options(app, page)
    assert again.status_int in (400, 403) and again.json["error"] == "invalid_request"


def test_the_step_options_and_form_need_their_csrf_tokens(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    """PK-19: the options without the page's token (or with another session's) and the
    passkey form without the step's token: 403, nobody signed in, the step still open."""
    key = security_key(provider, alice)
    page = account_second_step(app, alice)
    stranger = new_app(provider)
    strangers = account_second_step(stranger, alice)
    for token in ("", hidden(strangers, "csrf_token")):
        options = second_factor_options(app, page, csrf_token=token)
        assert options.status_int == 403 and options.json["error"] == "invalid_request"
    options = second_factor_options(app, page)
    assertion = key.get(options.json)
    for token in ("", hidden(strangers, "csrf_token")):
        response = post_second_factor(app, page, assertion, csrf_token=token)
        assert response.status_int == 403, response.status
        assert session_amr(provider, app) is None
    flow = Flow(new_app(provider), client_a, alice)
    login_step = login_second_step(flow)
    options = second_factor_options(flow.app, login_step)
    forged = post_second_factor(flow.app, login_step, key.get(options.json), csrf_token="x")
    assert forged.status_int in (400, 403), forged.status
    assert session_amr(provider, flow.app) is None
    assert post_second_factor(app, page, assertion).status_int == 303


@pytest.mark.parametrize(
    "assertion",
    ["", "{", "null", '{"id":"AA","rawId":"AA","type":"public-key","response":{}}', "x" * 20000],
    ids=["empty", "not-json", "null", "no-response", "too-long"],
)
def test_bad_answers_get_the_step_again(
    provider: Provider, app: webtest.TestApp, alice: Account, assertion: str
) -> None:
    security_key(provider, alice)
    page = account_second_step(app, alice)
    second_factor_options(app, page)
    response = post_second_factor(app, page, assertion)
    assert response.status_int == 401, response.status
    assert "Traceback" not in response.text and STEP_FAILED in response.text
    assert session_amr(provider, app) is None


def test_failed_answers_at_the_step_lock_the_address(
    settings: Settings, storage: Storage, alice: Account, provider: Provider
) -> None:
    """PK-20: refused keys at the step count on the address like wrong passwords: then
    429 with Retry-After, even for the right key."""
    key = security_key(provider, alice)
    locked = Provider(dataclasses.replace(settings, login_ip_lock_threshold=3), storage=storage)
    app = webtest.TestApp(
        locked,
        extra_environ={
            "wsgi.url_scheme": "https",
            "HTTP_HOST": "op.example",
            "REMOTE_ADDR": "198.51.100.7",
        },
    )
    page = account_second_step(app, alice)
    statuses = [
        second_factor_with(app, page, key, origin="https://evil.example").status_int
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    response = second_factor_with(app, page, key)
    assert response.status_int == 429 and int(response.headers["Retry-After"]) > 0
    assert STEP_FAILED in response.text
    assert session_amr(provider, app) is None


def test_the_passkey_form_is_posted_by_script_only(
    provider: Provider, app: webtest.TestApp, alice: Account
) -> None:
    """The form is hidden until the script finds WebAuthn, and no inline script runs."""
    security_key(provider, alice)
    page = account_second_step(app, alice)
    form = page.html.find("form", id="passkey-second-factor")
    assert form is not None and form.has_attr("hidden")
    assert form["data-options"].endswith("/passkey/options")
    script = page.html.find("script")
    assert script is not None and script["src"].endswith("/passkeys.js")
    assert not script.string
    names = [i["name"] for i in form.find_all("input")]
    assert names.count("csrf_token") == 1 and "action" in names and "passkey" in names
    assert FORM  # the helpers post form-encoded, as the script does


def test_a_passkey_user_sees_two_step_on_and_keeps_recovery_codes(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    """PK-16: with a security key as the only factor the security page says two-step
    verification is on and gives recovery codes (with the password); one of them ends the
    second step when the key is not at hand."""
    signed_in = account_pages.browser(provider, alice)
    key = authenticator_for(signed_in)
    added = add(signed_in, key, "Security key", passwordless=False, proof=alice.password)
    assert added.status_int == 303
    page = signed_in.get("/account/security")
    assert "Two-step verification is on: after your password" in page.text
    response = account_pages.post(
        signed_in, "/account/security/recovery-codes", {"proof": alice.password}
    )
    assert response.status_int == 200, response.text[:300]
    codes = recovery_codes_of(response)
    assert len(codes) == 10
    flow = Flow(app, client_a, alice)
    step = login_second_step(flow)
    done = second_step(app, step, codes[0])
    assert done.status_int == 303, done.text[:500]
    assert session_amr(provider, app) == ("mfa", "otp", "pwd")
    assert "Recovery codes left: 9" in signed_in.get("/account/security").text
