"""Signing in to the account pages at /account/ (no open redirect, key rotated), and what
every page carries.
"""

from __future__ import annotations

import re

import pytest
import webtest

from oidc_core import Provider
from tests.support.account_pages import browser, post, sign_in
from tests.support.console_pages import COOKIE, session_key
from tests.support.flow import Account, hidden, issuer_of

# -- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/account", "/account/", "/account/sessions", "/account/profile"])
def test_anonymous_visitors_are_sent_to_the_sign_in_page(app: webtest.TestApp, path: str) -> None:
    response = app.get(path)
    assert response.status_int == 303
    target = "/account/" if path == "/account" else "/account/login"
    assert response.headers["Location"] == issuer_of(app) + target


def test_the_sign_in_form_has_labelled_fields_and_a_sign_in_button(app: webtest.TestApp) -> None:
    page = app.get("/account/login")
    assert page.status_int == 200
    assert '<label for="email">Email</label>' in page.text
    assert '<input id="email" name="email" type="email"' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert '<input id="password" name="password" type="password"' in page.text
    assert '<button type="submit">Sign in</button>' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_signing_in_goes_to_the_account_never_to_an_address_from_the_request(
    app: webtest.TestApp, alice: Account
) -> None:
    page = app.get("/account/login?next=https://evil.example/")
    before = session_key(page)
    response = app.post(
        "/account/login?next=https://evil.example/&return_to=//evil.example",
        {
            "csrf_token": hidden(page, "csrf_token"),
            "email": alice.email,
            "password": alice.password,
            "next": "https://evil.example/",
        },
    )
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(app) + "/account/"
    assert session_key(response) != before  # rotated at sign-in (session fixation)
    assert app.get("/account/").status_int == 200
    assert app.get("/account/login").headers["Location"] == issuer_of(app) + "/account/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong password"), ("nobody@example.com", "whatever it is")],
)
def test_a_wrong_sign_in_is_refused_with_one_message(
    app: webtest.TestApp, alice: Account, email: str, password: str
) -> None:
    response = sign_in(app, email, password)
    assert response.status_int == 401
    assert "The email address or password is not correct." in response.text
    assert app.get("/account/").status_int == 303


def test_signing_in_without_the_forms_csrf_token_is_refused(
    app: webtest.TestApp, alice: Account
) -> None:
    app.get("/account/login")
    response = app.post(
        "/account/login",
        {"email": alice.email, "password": alice.password},
        expect_errors=True,
    )
    assert response.status_int == 403
    assert app.get("/account/").status_int == 303


def test_a_forged_sign_in_does_not_sign_the_user_out(provider: Provider, alice: Account) -> None:
    """A sign-in POST without the form's token (another site's form) is refused and leaves
    the browser's session as it was: no new session cookie replaces the signed-in one."""
    app = browser(provider, alice)
    key = app.cookies[COOKIE]
    response = app.post(
        "/account/login", {"email": "mallory@example.com", "password": "x"}, expect_errors=True
    )
    assert response.status_int == 403
    assert "Set-Cookie" not in response.headers
    assert app.cookies[COOKIE] == key
    assert app.get("/account/").status_int == 200


def test_sign_out_ends_the_session(provider: Provider, alice: Account) -> None:
    app = browser(provider, alice)
    assert post(app, "/account/logout", token=None).status_int == 403
    assert app.get("/account/").status_int == 200
    response = post(app, "/account/logout")
    assert response.headers["Location"] == issuer_of(app) + "/account/login"
    assert app.get("/account/").status_int == 303


# -- every page -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/account/", "/account/sessions", "/account/profile"])
def test_every_page_has_the_navigation_security_headers_and_labelled_fields(
    provider: Provider, alice: Account, path: str
) -> None:
    page = browser(provider, alice).get(path)
    assert page.status_int == 200
    for label in ("Connected apps", "Sessions", "Profile", "Sign out"):
        assert label in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert 'name="viewport"' in page.text
    for field_id in re.findall(r'<input id="([^"]+)"', page.text):
        assert f'<label for="{field_id}">' in page.text, field_id
    for form in re.findall(r'<form method="post".*?</form>', page.text, re.S):
        assert 'name="csrf_token"' in form


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/account/", 405),
        ("GET", "/account/apps/anything/revoke", 405),
        ("GET", "/account/sessions/end-all", 405),
        ("GET", "/account/password", 405),
        ("PUT", "/account/profile", 405),
        ("GET", "/account/logout", 405),
        ("DELETE", "/account/login", 405),
        ("GET", "/account/nothing-here", 404),
        ("GET", "/account/apps/", 404),
        ("GET", "/account/sessions/x/end", 404),
    ],
)
def test_wrong_methods_and_unknown_paths(
    provider: Provider, alice: Account, method: str, path: str, status: int
) -> None:
    app = browser(provider, alice)
    response = getattr(app, method.lower())(path, expect_errors=True)
    assert response.status_int == status
    assert response.headers["Cache-Control"] == "no-store"
