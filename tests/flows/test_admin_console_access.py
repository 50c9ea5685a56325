"""Who may enter the admin console at /admin/: sign-in, the admin flag, sign-out."""

from __future__ import annotations

import webtest

from oidc_core import Provider
from tests.conftest import make_user, new_app
from tests.support.admin_console import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    client_form,
    post,
    sign_in,
    stored,
)
from tests.support.admin_console import admin as admin
from tests.support.admin_console import mallory as mallory
from tests.support.console_pages import (
    COOKIE,
    assert_unchanged,
    client_paths,
    count,
    post_paths,
    session_key,
)
from tests.support.flow import RP, hidden, issuer_of

# -- who may enter --------------------------------------------------------------------------


def test_anonymous_gets_the_login_page_and_no_client_data(
    app: webtest.TestApp, provider: Provider, client_a: RP
) -> None:
    for path in client_paths(client_a.client_id):
        response = app.get(path, expect_errors=True)
        assert response.status_int == 303, path
        assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
        assert "Client A" not in response.text and client_a.client_id not in response.text
    page = app.get("/admin/login")
    assert page.status_int == 200
    assert "Sign in with an administrator account" in page.text
    assert 'name="password"' in page.text
    assert "Client A" not in page.text
    assert app.get("/admin").headers["Location"] == issuer_of(app) + "/admin/"


def test_anonymous_posts_change_nothing(
    app: webtest.TestApp, provider: Provider, client_a: RP
) -> None:
    before = stored(provider, client_a.client_id)
    for path in post_paths(client_a.client_id):
        response = app.post(path, client_form(client_name="Taken"), expect_errors=True)
        assert response.status_int == 303, path
        assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == 0


def test_a_user_without_the_admin_flag_gets_403_everywhere(
    mallory: webtest.TestApp, provider: Provider, client_a: RP
) -> None:
    before = stored(provider, client_a.client_id)
    for path in client_paths(client_a.client_id):
        response = mallory.get(path, expect_errors=True)
        assert response.status_int == 403, path
        assert "Administrators only" in response.text
        assert "Client A" not in response.text and client_a.client_id not in response.text
    # A valid CSRF token of this session does not make a POST acceptable.
    csrf = hidden(mallory.get("/admin/", expect_errors=True), "csrf_token")
    for path in post_paths(client_a.client_id):
        form = client_form(client_name="Taken", grace_seconds="0")
        response = post(mallory, path, form, csrf=csrf)
        assert response.status_int == 403, path
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == 0


def test_the_403_page_lets_the_user_sign_out(mallory: webtest.TestApp) -> None:
    csrf = hidden(mallory.get("/admin/", expect_errors=True), "csrf_token")
    response = post(mallory, "/admin/logout", [], csrf=csrf)
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
    assert mallory.get("/admin/", expect_errors=True).status_int == 303


def test_failed_sign_in_is_the_same_401_for_unknown_email_and_wrong_password(
    app: webtest.TestApp, provider: Provider
) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    wrong = sign_in(app, ADMIN_EMAIL, "not the password")
    unknown = sign_in(app, "nobody@example.com", ADMIN_PASSWORD)
    for response in (wrong, unknown):
        assert response.status_int == 401
        assert "The email address or password is not correct." in response.text
    assert wrong.text.replace(ADMIN_EMAIL, "X") == unknown.text.replace(
        "nobody@example.com", "X"
    ).replace(hidden(unknown, "csrf_token"), hidden(wrong, "csrf_token"))
    assert app.get("/admin/", expect_errors=True).status_int == 303


def test_sign_in_replaces_the_session_key_and_goes_only_to_the_console(
    app: webtest.TestApp, provider: Provider
) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    page = app.get("/admin/login?next=https://evil.example/")
    before = session_key(page)
    response = app.post(
        "/admin/login?next=https://evil.example/",
        {
            "csrf_token": hidden(page, "csrf_token"),
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/"
    after = session_key(response)
    assert after != before
    assert app.get("/admin/").status_int == 200
    # The key from before sign-in grants nothing.
    stale = new_app(provider)
    stale.set_cookie(COOKIE, before)
    assert stale.get("/admin/", expect_errors=True).status_int == 303


def test_sign_in_form_needs_its_csrf_token(app: webtest.TestApp, provider: Provider) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    app.get("/admin/login")
    for csrf in (None, "0" * 64):
        response = post(
            app, "/admin/login", [("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)], csrf
        )
        assert response.status_int == 403
        assert "form has expired" in response.text
    assert app.get("/admin/", expect_errors=True).status_int == 303


def test_a_forged_sign_in_does_not_sign_the_administrator_out(
    admin: webtest.TestApp, provider: Provider
) -> None:
    """A sign-in POST without the form's token is refused and leaves the browser's
    console session as it was (no new session cookie replacing it)."""
    key = admin.cookies[COOKIE]
    response = post(admin, "/admin/login", [("email", "x@example.com"), ("password", "x")], None)
    assert response.status_int == 403
    assert "Set-Cookie" not in response.headers
    assert admin.cookies[COOKIE] == key
    assert admin.get("/admin/").status_int == 200


def test_sign_out_ends_the_session(admin: webtest.TestApp, provider: Provider) -> None:
    key = admin.cookies[COOKIE]
    response = post(admin, "/admin/logout", [])
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
    assert admin.get("/admin/", expect_errors=True).status_int == 303
    stale = new_app(provider)
    stale.set_cookie(COOKIE, key)
    assert stale.get("/admin/", expect_errors=True).status_int == 303
