"""Signing in with a passkey, without a password: on the login page of an authorization
request (then consent and the code, as after a password) and on the account pages.  Every
refusal (another origin or RP ID, another user's credential, a credential not allowed
for it, no user verification, a counter going backwards, a replayed or missing
challenge) answers 401 with the form again, signs nobody in, and counts against the
address.  The browser's part is played by a software authenticator.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.interactions.browser import csrf_token
from oidc_core.storage import Storage
from tests.support.account_pages import browser, sign_in
from tests.support.account_status import set_status
from tests.support.authenticator import SoftAuthenticator
from tests.support.flow import Account, Flow, query_of, verify_id_token
from tests.support.login_consent import login_page
from tests.support.mfa import session_amr
from tests.support.passkeys import (
    FORM,
    add,
    authenticator_for,
    post_assertion,
    request_options,
    sign_in_at,
)

pytestmark = pytest.mark.mounts("one")


def enrolled(
    provider: Provider, user: Account, passwordless: bool = True, **kwargs: Any
) -> SoftAuthenticator:
    """A passkey of ``user``, added on the account pages (in a browser of its own)."""
    app = browser(provider, user)
    key = authenticator_for(app, **kwargs)
    response = add(app, key, "Phone", passwordless=passwordless, proof=user.password)
    assert response.status_int == 303, response.text[:300]
    return key


def test_passwordless_sign_in_through_an_authorization_request(
    flow: Flow, provider: Provider, alice: Account
) -> None:
    """PK-6: the login page offers a passkey (autofill and a button); signing in with one
    goes on to consent and the code like a password; the session records hwk + user + mfa."""
    key = enrolled(provider, alice)
    page = login_page(flow)
    assert 'autocomplete="username webauthn"' in page.text
    assert "Sign in with a passkey" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    options = request_options(flow.app, page)
    assert options.json["rpId"] == "op.example"
    assert options.json["userVerification"] == "required"
    assert options.json.get("allowCredentials", []) == []
    assert options.headers["Cache-Control"] == "no-store"
    response = post_assertion(flow.app, page, key.get(options.json))
    assert response.status_int == 303, response.text[:500]
    consent = flow.app.get(response.headers["Location"])
    done = flow.consent(consent)
    code = query_of(done.headers["Location"])["code"]
    tokens = flow.token(code).json
    claims = verify_id_token(flow.app, tokens["id_token"], flow.client.client_id)
    assert claims["sub"] == alice.subject
    assert claims["amr"] == ["hwk", "mfa", "user"] and claims["acr"] == "phr"
    assert session_amr(provider, flow.app) == ("hwk", "mfa", "user")


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_suspended_or_closed_accounts_passkey_signs_nobody_in(
    flow: Flow, provider: Provider, alice: Account, status: str
) -> None:
    """ACC-2: the passkey of an account that is not active gets the passkey's generic
    refusal (401), like an unknown one; nobody is signed in."""
    key = enrolled(provider, alice)
    set_status(flow.app, provider, alice, status)
    page = login_page(flow)
    response = sign_in_at(flow.app, page, key)
    assert response.status_int == 401, response.status
    assert "This passkey could not be used" in response.text
    assert session_amr(provider, flow.app) is None


def test_a_synced_passkey_is_a_software_key(flow: Flow, provider: Provider, alice: Account) -> None:
    key = enrolled(provider, alice, synced=True)
    response = sign_in_at(flow.app, login_page(flow), key)
    assert response.status_int == 303
    assert session_amr(provider, flow.app) == ("mfa", "swk", "user")


def test_passwordless_sign_in_on_the_account_pages(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    key = enrolled(provider, alice)
    page = app.get("/account/login")
    assert 'autocomplete="username webauthn"' in page.text
    response = sign_in_at(app, page, key)
    assert response.status_int == 303
    assert response.headers["Location"].endswith("/account/")
    assert app.get("/account/passkeys").status_int == 200
    user = provider.storage.users.by_subject(alice.subject)
    assert user is not None
    (passkey,) = provider.storage.passkeys.of_user(user.id)
    assert passkey.sign_count == key.sign_count == 1 and passkey.last_used_at


LIES = {
    "other-origin": {"origin": "https://evil.example"},
    "other-port": {"origin": "https://op.example:8443"},
    "other-rp-id": {"rp_id": "evil.example"},
    "other-user-handle": {"user_handle": b"somebody else"},
    "no-user-handle": {"user_handle": None},
}


@pytest.mark.parametrize("lie", LIES.values(), ids=LIES.keys())
def test_an_assertion_for_another_site_or_user_is_refused(
    flow: Flow, provider: Provider, alice: Account, lie: dict[str, Any]
) -> None:
    """PK-7: another origin, RP ID or user handle: 401, nobody signed in."""
    key = enrolled(provider, alice)
    page = login_page(flow)
    response = sign_in_at(flow.app, page, key, **lie)
    assert response.status_int == 401, response.status
    assert "This passkey could not be used" in response.text
    assert session_amr(provider, flow.app) is None


def test_another_users_credential_cannot_sign_in_as_the_user(
    app: webtest.TestApp, provider: Provider, alice: Account, bob: Account
) -> None:
    """PK-8: Bob's key claiming Alice's user handle is refused; it signs in as Bob only."""
    enrolled(provider, alice)
    bobs = enrolled(provider, bob)
    response = sign_in_at(app, app.get("/account/login"), bobs, user_handle=alice.subject.encode())
    assert response.status_int == 401
    response = sign_in_at(app, app.get("/account/login"), bobs)
    assert response.status_int == 303
    user = provider.storage.users.by_subject(bob.subject)
    assert user is not None
    assert len(provider.storage.sessions.signed_in(user.id)) == 2  # enrolment + this one


def test_a_second_factor_key_cannot_sign_in_without_a_password(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """PK-9: only a credential the user allowed for it signs in without a password."""
    key = enrolled(provider, alice, passwordless=False)
    assert sign_in_at(app, app.get("/account/login"), key).status_int == 401


def test_without_user_verification_no_passwordless_sign_in(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    key = enrolled(provider, alice)
    key.verifies_user = False
    assert sign_in_at(app, app.get("/account/login"), key).status_int == 401


def test_a_counter_going_backwards_is_refused_and_logged(
    app: webtest.TestApp, provider: Provider, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """PK-10: a cloned authenticator: its counter does not move forward."""
    key = enrolled(provider, alice)
    assert sign_in_at(app, app.get("/account/login"), key, counter=5).status_int == 303
    other = app.new_browser()
    caplog.set_level(logging.WARNING, logger="oidc_core.mfa.passkeys")
    for counter in (5, 3):
        response = sign_in_at(other, other.get("/account/login"), key, counter=counter)
        assert response.status_int == 401, counter
    assert "a cloned authenticator?" in caplog.text
    assert sign_in_at(other, other.get("/account/login"), key, counter=6).status_int == 303


def test_an_assertion_answers_its_challenge_once(
    flow: Flow, provider: Provider, alice: Account
) -> None:
    """PK-11: a replayed assertion (its challenge used) and one without options fetched
    in this session are refused."""
    key = enrolled(provider, alice)
    page = login_page(flow)
    options = request_options(flow.app, page).json
    assertion = key.get(options)
    other = Flow(flow.app.new_browser(), flow.client, alice)
    other_page = login_page(other)
    assert post_assertion(other.app, other_page, assertion).status_int == 401  # no challenge
    request_options(other.app, other_page)  # another challenge
    assert post_assertion(other.app, other_page, assertion).status_int == 401
    assert post_assertion(flow.app, page, assertion).status_int == 303
    page = login_page(flow, prompt="login")
    assert post_assertion(flow.app, page, assertion).status_int == 401  # replayed


@pytest.mark.parametrize(
    "assertion",
    ["", "{", "null", '{"id":"AA","rawId":"AA","type":"public-key","response":{}}', "x" * 20000],
    ids=["empty", "not-json", "null", "no-response", "too-long"],
)
def test_bad_assertions_get_the_form_again(flow: Flow, assertion: str) -> None:
    page = login_page(flow)
    request_options(flow.app, page)
    response = post_assertion(flow.app, page, assertion)
    assert response.status_int in (400, 401), response.status
    assert "Traceback" not in response.text


def test_the_options_need_this_sessions_token(app: webtest.TestApp) -> None:
    """PK-12: the options endpoint answers a POST with the page's token only (JSON errors)."""
    page = app.get("/account/login")
    assert request_options(app, page).status_int == 200
    stranger = app.new_browser()
    forged = stranger.post(
        "/passkey/options", {"csrf_token": "x"}, content_type=FORM, expect_errors=True
    )
    assert forged.status_int == 403 and forged.json["error"] == "invalid_request"
    assert app.get("/passkey/options", expect_errors=True).status_int == 405


def test_failed_assertions_lock_the_address(
    settings: Settings, storage: Storage, alice: Account, provider: Provider
) -> None:
    """PK-13: failures count on the address like wrong passwords: then 429 with
    Retry-After, even for a good passkey, and a password from there is locked too."""
    key = enrolled(provider, alice)
    locked = Provider(dataclasses.replace(settings, login_ip_lock_threshold=3), storage=storage)
    app = webtest.TestApp(
        locked,
        extra_environ={
            "wsgi.url_scheme": "https",
            "HTTP_HOST": "op.example",
            "REMOTE_ADDR": "198.51.100.7",
        },
    )
    statuses = []
    for _ in range(4):
        page = app.get("/account/login")
        statuses.append(sign_in_at(app, page, key, origin="https://evil.example").status_int)
    assert statuses == [401, 401, 401, 429]
    page = app.get("/account/login")
    response = sign_in_at(app, page, key)
    assert response.status_int == 429 and int(response.headers["Retry-After"]) > 0
    assert sign_in(app, alice.email, alice.password).status_int == 429


def test_an_issuer_on_an_ip_address_offers_no_passkeys(
    settings: Settings, storage: Storage, alice: Account
) -> None:
    """PK-14: browsers refuse an IP address as RP ID: the pages offer no passkey, the
    endpoints say they are unavailable, passwords work as before."""
    on_ip = Provider(dataclasses.replace(settings, issuer="http://127.0.0.1:8000"), storage=storage)
    app = webtest.TestApp(on_ip, extra_environ={"HTTP_HOST": "127.0.0.1:8000"})
    page = app.get("/account/login")
    assert "webauthn" not in page.text and "passkey" not in page.text.lower()
    assert "script-src" not in page.headers["Content-Security-Policy"]
    session = on_ip.storage.sessions.by_key(app.cookies[settings.session_cookie_name])
    assert session is not None
    token = csrf_token(session, "passkey")  # what a page would hand out, were it offered
    options = app.post(
        "/passkey/options", {"csrf_token": token}, content_type=FORM, expect_errors=True
    )
    assert options.status_int == 404 and options.json["error"] == "invalid_request"
    assert sign_in(app, alice.email, alice.password).status_int == 303
    passkeys = app.get("/account/passkeys")
    assert "Passkeys are not available on this site." in passkeys.text
    assert "passkey-register" not in passkeys.text
    csrf = passkeys.html.find("input", {"name": "csrf_token"})["value"]
    refused = app.post(
        "/account/passkeys/options", {"csrf_token": csrf}, content_type=FORM, expect_errors=True
    )
    assert refused.status_int == 404
