"""The user's account pages at /account/ (docs/account.md), driven like a browser.

Signing in (no open redirect, key rotated), connected apps and revoking one (T-56, T-57),
sessions and signing out, profile editing and the password change.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from oidc_core.ui.render import iso
from tests.conftest import make_client, new_app
from tests.flows.test_admin_console import session_key
from tests.support.flow import RP, Account, Flow, hidden, issuer_of
from tests.support.tokens import OFFLINE_SCOPES, WITH_REFRESH, post_as, refresh, userinfo_status

ROOT = "https://op.example"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


# -- helpers --------------------------------------------------------------------------------


def sign_in(app: webtest.TestApp, email: str, password: str, **extra: str) -> webtest.TestResponse:
    page = app.get("/account/login")
    fields = {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password}
    return app.post("/account/login", {**fields, **extra}, expect_errors=True)


def browser(
    provider: Provider, user: Account, agent: str = FIREFOX, address: str = "192.0.2.10"
) -> webtest.TestApp:
    """A browser signed in to the account pages as ``user``, from ``address``."""
    app = new_app(provider)
    app.extra_environ.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = sign_in(app, user.email, user.password)
    assert response.status_int == 303, response.text[:500]
    return app


def csrf(app: webtest.TestApp, path: str = "/account/") -> str:
    return hidden(app.get(path), "csrf_token")


def post(
    app: webtest.TestApp, path: str, fields: dict[str, str] | None = None, token: str | None = ""
) -> webtest.TestResponse:
    """POST with this session's CSRF token ("" fetches it, None leaves it out)."""
    data = dict(fields or {})
    if token == "":
        token = csrf(app)
    if token is not None:
        data["csrf_token"] = token
    form = "application/x-www-form-urlencoded"
    return app.post(path, data, content_type=form, expect_errors=True)


def revoke(app: webtest.TestApp, client_id: str, **kwargs: Any) -> webtest.TestResponse:
    return post(app, f"/account/apps/{client_id}/revoke", **kwargs)


def offline_rp(storage: Storage, name: str, host: str, **kwargs: Any) -> RP:
    return make_client(
        storage,
        name,
        [f"https://{host}/cb"],
        allowed_scopes=OFFLINE_SCOPES,
        grant_types=WITH_REFRESH,
        client_uri=f"https://{host}",
        **kwargs,
    )


def tokens(app: webtest.TestApp, rp: RP, user: Account) -> dict[str, Any]:
    flow = Flow(app, rp, user, scope=OFFLINE_SCOPES)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    assert "refresh_token" in response.json
    body: dict[str, Any] = response.json
    return body


def introspected(app: webtest.TestApp, rp: RP, token: str) -> bool:
    response = post_as(app, "/introspect", rp, {"token": token})
    assert response.status_int == 200, response.text
    return bool(response.json["active"])


def alive(app: webtest.TestApp, rp: RP, body: dict[str, Any]) -> dict[str, bool]:
    """Whether each of a token response's tokens still works (refreshing rotates it: the
    caller's refresh token is used up when it worked)."""
    return {
        "userinfo": userinfo_status(app, body["access_token"]) == 200,
        "introspect_access": introspected(app, rp, body["access_token"]),
        "introspect_refresh": introspected(app, rp, body["refresh_token"]),
        "refresh": refresh(app, rp, body["refresh_token"]).status_int == 200,
    }


def app_names(page: webtest.TestResponse) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", page.text)


def count(provider: Provider, sql: str) -> int:
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


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


# -- connected apps -------------------------------------------------------------------------


def test_an_account_without_apps_says_so(provider: Provider, alice: Account) -> None:
    page = browser(provider, alice).get("/account/")
    assert "No apps have access to your account." in page.text


def test_connected_apps_show_logo_name_url_scopes_and_dates(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice, scope="openid email")
    assert flow.token(flow.authorize()["code"]).status_int == 200
    page = app.get("/account/")
    assert app_names(page) == ["Client A"]
    assert '<img src="https://rp.example/logo.png"' in page.text
    assert "https://rp.example" in page.text
    scopes = re.findall(r"<li>([^<]+)</li>", page.text)
    assert scopes == ["Sign you in and know it is you", "Your email address"]
    assert "Your name, username and language" not in page.text  # not granted
    assert page.text.count("<time datetime=") == 2  # first authorized, last used
    assert ">Revoke access</button>" in page.text
    assert 'aria-label="Revoke access for Client A"' in page.text
    assert "No apps have access" not in page.text


def test_a_first_party_app_with_live_tokens_is_listed_without_a_consent(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    panel = make_client(storage, "Control panel", ["https://panel.example/cb"], skip_consent=True)
    flow = Flow(app, panel, alice)
    body = flow.token(flow.authorize()["code"]).json
    assert count_consents(storage) == 0
    assert app_names(app.get("/account/")) == ["Control panel"]

    assert revoke(app, panel.client_id).status_int == 303
    assert userinfo_status(app, body["access_token"]) == 401
    assert app_names(app.get("/account/")) == []


def count_consents(storage: Storage) -> int:
    return int(storage.database.execute_sql("SELECT COUNT(*) FROM oidc_consent").fetchone()[0])


def test_t56_revoking_an_app_ends_its_tokens_for_this_user_only(
    provider: Provider, storage: Storage, alice: Account, bob: Account
) -> None:
    rp_a = offline_rp(storage, "App A", "a.example")
    rp_b = offline_rp(storage, "App B", "b.example")
    alice_browser, bob_browser = new_app(provider), new_app(provider)
    alice_a = tokens(alice_browser, rp_a, alice)
    alice_b = tokens(alice_browser, rp_b, alice)
    bob_a = tokens(bob_browser, rp_a, bob)
    assert app_names(alice_browser.get("/account/")) == ["App A", "App B"]

    response = revoke(alice_browser, rp_a.client_id)
    assert response.status_int == 303
    assert response.headers["Location"] == (
        issuer_of(alice_browser) + f"/account/?revoked={rp_a.client_id}"
    )
    page = alice_browser.get(response.headers["Location"])
    assert "Access for App A was revoked." in page.text
    assert app_names(page) == ["App B"]

    assert alive(alice_browser, rp_a, alice_a) == dict.fromkeys(
        ("userinfo", "introspect_access", "introspect_refresh", "refresh"), False
    )
    assert all(alive(alice_browser, rp_b, alice_b).values())
    assert all(alive(bob_browser, rp_a, bob_a).values())
    assert app_names(bob_browser.get("/account/")) == ["App A"]

    again = Flow(alice_browser, rp_a, alice, scope=OFFLINE_SCOPES).start()
    assert urlsplit(again.headers["Location"]).path.endswith("/consent")  # asked again


def test_the_revoked_notice_names_only_an_app_looked_up(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    app = browser(provider, alice)
    assert "was revoked" not in app.get("/account/?revoked=<b>Evil</b>").text
    assert "was revoked" not in app.get("/account/?revoked=%FF").text
    rp = offline_rp(storage, "App A", "a.example")
    assert "Access for App A was revoked." in app.get(f"/account/?revoked={rp.client_id}").text


def test_revoking_queues_a_back_channel_logout_token_for_the_app(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(
        storage, "App A", "a.example", backchannel_logout_uri="https://a.example/bc-logout"
    )
    app = new_app(provider)
    tokens(app, rp, alice)
    assert revoke(app, rp.client_id).status_int == 303
    rows = storage.database.execute_sql(
        "SELECT logout_token FROM oidc_backchannel_delivery"
    ).fetchall()
    assert len(rows) == 1
    claims = jwt.decode(rows[0][0], options={"verify_signature": False})
    assert claims["aud"] == rp.client_id and claims["sub"] == alice.subject
    assert "sid" not in claims and "nonce" not in claims


def test_t57_revoking_another_users_grant_or_an_unknown_app_is_not_found(
    provider: Provider, storage: Storage, alice: Account, bob: Account
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    bob_tokens = tokens(new_app(provider), rp, bob)
    app = browser(provider, alice)
    for client_id in (rp.client_id, "no-such-client", "%2F..%2Fadmin"):
        response = revoke(app, client_id)
        assert response.status_int == 404, client_id
    assert "This app has no access to your account." in revoke(app, rp.client_id).text
    assert all(alive(app, rp, bob_tokens).values())


@pytest.mark.parametrize("token", [None, "0" * 64, "forged"])
def test_t57_revoking_without_this_sessions_csrf_token_is_forbidden(
    provider: Provider, storage: Storage, alice: Account, token: str | None
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    app = new_app(provider)
    body = tokens(app, rp, alice)
    response = revoke(app, rp.client_id, token=token)
    assert response.status_int == 403
    assert app_names(app.get("/account/")) == ["App A"]
    assert count_consents(storage) == 1
    assert all(alive(app, rp, body).values())


def test_t57_a_csrf_token_of_another_session_does_not_work(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    app = new_app(provider)
    tokens(app, rp, alice)
    other = browser(provider, alice)
    assert revoke(app, rp.client_id, token=csrf(other)).status_int == 403
    assert count_consents(storage) == 1


# -- sessions -------------------------------------------------------------------------------


def session_rows(page: webtest.TestResponse) -> list[str]:
    return re.findall(r"<tr(?: class=\"current\")?>\s*<td.*?</tr>", page.text, re.S)


def test_sessions_list_browser_address_and_this_browser(
    provider: Provider, alice: Account, bob: Account
) -> None:
    laptop = browser(provider, alice, FIREFOX)
    phone = browser(provider, alice, PHONE, "2001:db8::7")
    browser(provider, bob)
    page = laptop.get("/account/sessions")
    rows = session_rows(page)
    assert len(rows) == 2  # bob's session is not alice's
    current = [row for row in rows if "This browser" in row]
    assert len(current) == 1 and "Firefox on Linux" in current[0]
    other = next(row for row in rows if "This browser" not in row)
    assert "Safari on iOS" in other and f'title="{PHONE}"' in other
    assert ">Sign out</button>" in other
    assert '<td data-label="IP address">2001:db8::7</td>' in other
    assert '<td data-label="IP address">192.0.2.10</td>' in current[0]
    assert phone.get("/account/sessions").status_int == 200


def test_signing_out_another_session(provider: Provider, alice: Account, bob: Account) -> None:
    laptop = browser(provider, alice)
    phone = browser(provider, alice, PHONE)
    bobs = browser(provider, bob)
    action = re.search(
        r'action="[^"]*(/account/sessions/[0-9]+/end)"', laptop.get("/account/sessions").text
    )
    assert action
    response = post(laptop, action.group(1), token=csrf(laptop, "/account/sessions"))
    assert response.status_int == 303
    assert "The session was signed out." in laptop.get(response.headers["Location"]).text
    assert phone.get("/account/").status_int == 303
    assert laptop.get("/account/").status_int == 200

    bobs_id = re.search(
        r"/account/sessions/([0-9]+)/end", browser(provider, bob).get("/account/sessions").text
    )
    assert bobs_id
    idor = post(laptop, f"/account/sessions/{bobs_id.group(1)}/end", token=csrf(laptop))
    assert idor.status_int == 404
    assert bobs.get("/account/").status_int == 200


def test_sign_out_everywhere_ends_every_session_of_the_user(
    provider: Provider, storage: Storage, alice: Account, bob: Account
) -> None:
    rp = make_client(
        storage, "App A", ["https://a.example/cb"], backchannel_logout_uri="https://a.example/bc"
    )
    laptop = new_app(provider)
    assert "code" in Flow(laptop, rp, alice).authorize()
    phone = browser(provider, alice, PHONE)
    bobs = browser(provider, bob)
    assert post(laptop, "/account/sessions/end-all", token=None).status_int == 403
    response = post(laptop, "/account/sessions/end-all", token=csrf(laptop, "/account/sessions"))
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(laptop) + "/account/login"
    assert laptop.get("/account/").status_int == 303
    assert phone.get("/account/").status_int == 303
    assert bobs.get("/account/").status_int == 200
    assert count(provider, "SELECT COUNT(*) FROM oidc_backchannel_delivery") == 1


# -- profile --------------------------------------------------------------------------------


def test_the_profile_shows_the_claims_we_release(provider: Provider, alice: Account) -> None:
    page = browser(provider, alice).get("/account/profile")
    for value in ("Alice Liddell", "Liddell", "alice@example.com"):
        assert f'value="{value}"' in page.text
    assert '<option value="en-GB" lang="en-GB" selected>en-GB</option>' in page.text
    assert '<input id="email" type="text" value="alice@example.com" readonly>' in page.text
    assert 'name="new_password_again"' in page.text


def test_editing_the_profile_changes_what_apps_receive(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice)
    access = flow.token(flow.authorize()["code"]).json["access_token"]
    fields = {"name": "Alice Pleasance Liddell", "locale": "fr", "email": "x@evil.example"}
    response = post(app, "/account/profile", fields, token=csrf(app, "/account/profile"))
    assert response.status_int == 303
    location = response.headers["Location"]
    assert location == issuer_of(app) + "/account/profile?notice=saved"
    for _ in range(2):  # a reload shows the saved values and posts nothing
        page = app.get(location)
        assert "Your profile was saved." in page.text
        assert 'value="Alice Pleasance Liddell"' in page.text
        assert '<option value="fr" lang="fr" selected>Français</option>' in page.text
    info = app.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).json
    assert info["name"] == "Alice Pleasance Liddell" and info["locale"] == "fr"
    assert info["email"] == "alice@example.com" and info["given_name"] == "Alice"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("locale", "english please", "Choose one of the languages offered."),
        ("locale", "fr-CA", "Choose one of the languages offered."),
        ("locale", "pt", "Choose one of the languages offered."),
        ("name", "x" * 256, "Use at most 255 characters."),
        ("preferred_username", "al\u0007ice", "Remove the control characters."),
    ],
)
def test_an_invalid_profile_value_is_refused_and_nothing_is_saved(
    provider: Provider, alice: Account, field: str, value: str, message: str
) -> None:
    app = browser(provider, alice)
    fields = {"given_name": "Changed", field: value}
    page = post(app, "/account/profile", fields, token=csrf(app, "/account/profile"))
    assert page.status_int == 400
    assert message in page.text
    user = provider.storage.users.by_email(alice.email)
    assert user is not None and user.given_name == "Alice" and user.locale == "en-GB"


def test_the_language_is_one_of_the_pages_languages_or_the_browsers(
    provider: Provider, alice: Account
) -> None:
    """A list of the supported locales and "Browser default" (no ``locale`` claim); the
    tag the account has from before (alice's en-GB) is offered and kept until changed."""
    app = browser(provider, alice)
    page = app.get("/account/profile")
    select = re.search(r'<select id="locale" name="locale"[^>]*>(.*?)</select>', page.text, re.S)
    assert select, page.text
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    assert options == [
        ("", "Browser default"),
        ("en", "English"),
        ("de", "Deutsch"),
        ("fr", "Français"),
        ("es", "Español"),
        ("en-GB", "en-GB"),
    ]

    def save(locale: str) -> int:
        fields = {"given_name": "Alice", "locale": locale}
        status: int = post(app, "/account/profile", fields, token=csrf(app)).status_int
        return status

    def stored() -> str:
        user = provider.storage.users.by_email(alice.email)
        assert user is not None
        return user.locale

    assert save("en-GB") == 303 and stored() == "en-GB"  # kept as it was
    assert save("de") == 303 and stored() == "de"
    assert "en-GB" not in app.get("/account/profile").text
    for refused in ("en-GB", "pt-BR", "DE", "xx", "de\u0000"):
        assert save(refused) == 400 and stored() == "de", refused
    assert save("") == 303 and stored() == ""  # the browser's language
    page = app.get("/account/profile")
    assert '<option value="" selected>Browser default</option>' in page.text


def test_an_administrator_finds_the_console_from_the_account_pages_and_others_do_not(
    provider: Provider, alice: Account, bob: Account
) -> None:
    provider.storage.users.set_admin(alice.email, True, None)
    link = f'<a class="area-link" href="{issuer_of(new_app(provider))}/admin/">Admin console</a>'
    admin = browser(provider, alice)
    for path in ("/account/", "/account/sessions", "/account/profile"):
        assert link in admin.get(path).text, path
    user = browser(provider, bob)
    for path in ("/account/", "/account/sessions", "/account/profile"):
        page = user.get(path)
        assert "Admin console" not in page.text and "/admin/" not in page.text, path


# -- password -------------------------------------------------------------------------------


def change_password(
    app: webtest.TestApp, current: str, new: str, again: str | None = None
) -> webtest.TestResponse:
    fields = {
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }
    return post(app, "/account/password", fields, token=csrf(app, "/account/profile"))


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not my password", "a new long password", None, "This is not your current password."),
        (None, "short", None, "Use at least 8 characters."),
        (None, "a new long password", "another one", "The two new passwords are not the same."),
        (None, "x" * 2000, None, "Use at most 1024 bytes."),
    ],
)
def test_a_refused_password_change_changes_nothing(
    provider: Provider,
    alice: Account,
    current: str | None,
    new: str,
    again: str | None,
    message: str,
) -> None:
    app = browser(provider, alice)
    response = change_password(app, current or alice.password, new, again)
    assert response.status_int in (400, 413), response.status
    if response.status_int == 400:
        assert message in response.text
    assert sign_in(new_app(provider), alice.email, alice.password).status_int == 303


def test_a_password_change_revokes_tokens_and_ends_other_sessions(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    app = new_app(provider)
    body = tokens(app, rp, alice)
    phone = browser(provider, alice, PHONE)
    before = app.cookies["oidc_session"]
    response = change_password(app, alice.password, "a brand new password")
    assert response.status_int == 303, response.text[:500]
    assert response.headers["Location"] == (
        issuer_of(app) + "/account/profile?notice=password-changed-everywhere"
    )
    assert session_key(response) != before  # this session got a new key
    page = app.get(response.headers["Location"])
    assert "Your password was changed. Apps must ask you to sign in again" in page.text
    assert app.get("/account/").status_int == 200
    assert phone.get("/account/").status_int == 303
    assert not any(alive(app, rp, body).values())
    assert app_names(app.get("/account/")) == ["App A"]  # the consent stays
    assert sign_in(new_app(provider), alice.email, alice.password).status_int == 401
    assert sign_in(new_app(provider), alice.email, "a brand new password").status_int == 303


# -- policies and records -------------------------------------------------------------------


def provider_with(settings: Settings, storage: Storage, **changes: Any) -> webtest.TestApp:
    """A browser on a provider at the root with ``changes`` to the settings."""
    provider = Provider(dataclasses.replace(settings, issuer=ROOT, **changes), storage=storage)
    return webtest.TestApp(
        provider, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )


def test_only_the_configured_claims_are_editable(
    settings: Settings, storage: Storage, alice: Account
) -> None:
    app = provider_with(settings, storage, profile_editable_claims=("locale",))
    assert sign_in(app, alice.email, alice.password).status_int == 303
    page = app.get("/account/profile")
    assert 'name="locale"' in page.text
    assert '<input id="name" type="text" value="Alice Liddell" readonly>' in page.text
    fields = {"locale": "de", "name": "Mallory"}
    assert post(app, "/account/profile", fields, token=csrf(app)).status_int == 303
    user = storage.users.by_email(alice.email)
    assert user is not None and (user.locale, user.name) == ("de", "Alice Liddell")


def test_without_the_revocation_policy_a_password_change_keeps_tokens_and_sessions(
    settings: Settings, storage: Storage, alice: Account
) -> None:
    app = provider_with(settings, storage, password_change_revokes_refresh_tokens=False)
    rp = offline_rp(storage, "App A", "a.example")
    body = tokens(app, rp, alice)
    other = webtest.TestApp(app.app, extra_environ=app.extra_environ)
    assert sign_in(other, alice.email, alice.password).status_int == 303
    response = change_password(app, alice.password, "a brand new password")
    assert response.headers["Location"].endswith("/account/profile?notice=password-changed")
    assert "Your password was changed." in app.get(response.headers["Location"]).text
    assert all(alive(app, rp, body).values())
    assert other.get("/account/").status_int == 200


def test_a_session_records_its_browser_and_address_at_every_sign_in(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    app.extra_environ.update(HTTP_USER_AGENT="x" * 600, REMOTE_ADDR="198.51.100.4")
    Flow(app, client_a, alice).authorize()
    rows = provider.storage.database.execute_sql(
        "SELECT user_agent, ip_address FROM oidc_browser_session WHERE user_id IS NOT NULL"
    ).fetchall()
    assert [tuple(row) for row in rows] == [("x" * 512, "198.51.100.4")]
    page = app.get("/account/sessions")
    assert "This browser" in page.text and "x" * 59 + "…" in page.text


def test_first_authorized_and_last_used_come_from_the_grant_and_the_latest_token(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice)
    for _ in range(2):
        assert flow.token(flow.authorize()["code"]).status_int == 200
    db = provider.storage.database
    db.execute_sql("UPDATE oidc_consent SET first_granted_at = 1000000000")
    db.execute_sql(
        "UPDATE oidc_access_token SET created_at = 1500000000 WHERE id = "
        "(SELECT MIN(id) FROM oidc_access_token)"
    )
    latest = db.execute_sql("SELECT MAX(created_at) FROM oidc_access_token").fetchone()[0]
    page = app.get("/account/")
    times = re.findall(r'<time datetime="([^"]+)"', page.text)
    assert times == ["2001-09-09T01:46:40Z", iso(latest)]


def test_an_expired_consent_without_live_tokens_is_not_listed(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    assert "code" in Flow(app, client_a, alice).authorize()  # a consent, no token yet
    assert app_names(app.get("/account/")) == ["Client A"]
    provider.storage.database.execute_sql("UPDATE oidc_consent SET expires_at = 1")
    assert app_names(app.get("/account/")) == []


def test_revoking_an_app_that_requires_sid_sends_one_token_per_session(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(
        storage,
        "App A",
        "a.example",
        backchannel_logout_uri="https://a.example/bc-logout",
        backchannel_logout_session_required=True,
    )
    sids = set()
    for _ in range(2):  # two browsers: two sessions
        body = tokens(new_app(provider), rp, alice)
        sids.add(jwt.decode(body["id_token"], options={"verify_signature": False})["sid"])
    app = browser(provider, alice)
    assert revoke(app, rp.client_id).status_int == 303
    rows = storage.database.execute_sql(
        "SELECT logout_token FROM oidc_backchannel_delivery"
    ).fetchall()
    claims = [jwt.decode(row[0], options={"verify_signature": False}) for row in rows]
    assert {c["sid"] for c in claims} == sids and len(claims) == 2
    assert {c["sub"] for c in claims} == {alice.subject}
