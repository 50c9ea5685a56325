"""The half-done sign-in (password right, second factor to come): it lives
``second_factor_ttl`` seconds in one browser session, no other browser can finish it, it
ends with the sign-in; and every form of the second-factor step and of the security page
is refused without its CSRF token, changing nothing."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

import webtest

from oidc_core import Provider
from tests.conftest import make_client, make_user, new_app
from tests.support import account_pages, admin_console
from tests.support.flow import RP, Account, Flow, hidden, issuer_of
from tests.support.mfa import (
    Authenticator,
    action_of,
    enrol,
    second_factor_page,
    second_step,
    secret_of,
)
from tests.support.security_headers import EVIL, Walker, our_forms

FORM = "application/x-www-form-urlencoded"
EXPIRED = "This sign-in has expired or was started in another browser. Sign in again."


def past_the_password(provider: Provider, user: Account) -> webtest.TestApp:
    app = new_app(provider)
    response = account_pages.sign_in(app, user.email, user.password)
    second_factor_page(response, "/account/login/second-factor")
    return app


def test_the_half_done_sign_in_expires(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    app = past_the_password(provider, alice)
    page = app.get("/account/login/second-factor")
    ttl = provider.settings.second_factor_ttl
    p = provider.storage.database.param
    provider.storage.database.execute_sql(
        f"UPDATE oidc_browser_session SET pending_at = pending_at - {p} "
        "WHERE pending_at IS NOT NULL",
        (ttl + 1,),
    )
    late = second_step(app, page, device.code())
    assert late.status_int == 400 and EXPIRED in late.text
    assert app.get("/account/").status_int == 303
    assert app.get("/account/login/second-factor", expect_errors=True).status_int == 400


def test_another_browser_cannot_finish_it(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    victim = past_the_password(provider, alice)
    page = victim.get("/account/login/second-factor")
    other = new_app(provider)
    assert (
        other.get("/account/login/second-factor", expect_errors=True).status_int == 400
    )  # no session at all
    other.get("/account/login")  # a session of its own, without a half-done sign-in
    shown = other.get("/account/login/second-factor", expect_errors=True)
    assert shown.status_int == 400 and EXPIRED in shown.text
    replayed = second_step(other, page, device.code())  # the victim's form and token
    assert replayed.status_int == 403
    assert other.get("/account/").status_int == 303
    assert second_step(victim, page, device.code()).status_int == 303  # still the victim's


def test_it_ends_with_the_sign_in(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    app = past_the_password(provider, alice)
    page = app.get("/account/login/second-factor")
    assert second_step(app, page, device.code()).status_int == 303
    again = app.get("/account/login/second-factor", expect_errors=True)
    assert again.status_int == 400 and EXPIRED in again.text


def test_a_new_password_sign_in_replaces_a_half_done_one(
    provider: Provider, alice: Account, bob: Account
) -> None:
    """Alice's half-done sign-in is gone once Bob's password is typed in that browser."""
    enrol(account_pages.browser(provider, alice))
    enrol(account_pages.browser(provider, bob))
    app = past_the_password(provider, alice)
    response = account_pages.sign_in(app, bob.email, bob.password)
    second_factor_page(response, "/account/login/second-factor")
    session = provider.storage.sessions.by_key(app.cookies["oidc_session"])
    assert session is not None
    pending = provider.storage.sessions.pending_sign_in(session.id, 300)
    bob_user = provider.storage.users.by_email(bob.email)
    assert pending is not None and bob_user is not None and pending.user_id == bob_user.id


def _state(provider: Provider) -> list[list[tuple[object, ...]]]:
    queries = (
        "SELECT id, user_id, key_digest, pending_user_id, pending_amr FROM oidc_browser_session "
        "ORDER BY id",
        "SELECT user_id, secret, confirmed_at, last_step FROM oidc_totp_credential ORDER BY id",
        "SELECT user_id, code_digest, used_at FROM oidc_recovery_code ORDER BY id",
        "SELECT id FROM oidc_authorization_code ORDER BY id",
    )
    db = provider.storage.database
    return [[tuple(row) for row in db.execute_sql(sql).fetchall()] for sql in queries]


def test_every_new_form_is_refused_without_its_csrf_token(
    provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account, bob: Account
) -> None:
    """CSRF (R-CS-1) on the second-factor page of the three sign-in places, the enrolment
    within a sign-in and its recovery codes, and the security page's forms."""
    signed_in = account_pages.browser(provider, alice)  # before the second factor exists
    device = enrol(signed_in)
    root = make_user(
        provider, admin_console.ADMIN_EMAIL, admin_console.ADMIN_PASSWORD, is_admin=True
    )
    enrol(account_pages.browser(provider, root))
    walkers = [Walker(new_app(provider)) for _ in range(6)]
    at_login, at_account, at_admin, enrolling, security, setting_up = walkers
    flow = Flow(at_login.app, client_a, alice)
    at_login.post(
        "login second factor",
        "/login",
        _fields(
            at_login.app.get(flow.start().headers["Location"]),
            email=alice.email,
            password=alice.password,
        ),
    )
    account_pages.sign_in(at_account.app, alice.email, alice.password)
    at_account.get("account second factor", "/account/login/second-factor")
    admin_console.sign_in(at_admin.app, root.email, root.password)
    at_admin.get("admin second factor", "/admin/login/second-factor")
    bank = Flow(enrolling.app, _bank(provider), bob)
    page = enrolling.post(
        "enrolment",
        "/login",
        _fields(
            enrolling.app.get(bank.start().headers["Location"]),
            email=bob.email,
            password=bob.password,
        ),
    )
    location = action_of(page)
    new_device = Authenticator(secret_of(page))
    enrolling.post("recovery codes", location, _fields(page, code=new_device.code()))
    security.app = signed_in
    security.get("security page", "/account/security")
    fresh = account_pages.browser(
        provider, make_user(provider, "carol@example.com", "carol's password")
    )
    setting_up.app = fresh
    token = hidden(setting_up.get("security page, off", "/account/security"), "csrf_token")
    setting_up.post("totp setup", "/account/security/totp", {"csrf_token": token})
    issuer = issuer_of(app)
    forms = our_forms([v for w in walkers for v in w.visits], issuer)
    paths = {urlsplit(form.action).path.removeprefix(urlsplit(issuer).path) for form, _ in forms}
    assert {
        "/login/second-factor",
        "/account/login/second-factor",
        "/admin/login/second-factor",
        "/account/security/totp",
        "/account/security/totp/confirm",
        "/account/security/totp/remove",
        "/account/security/recovery-codes",
    } <= paths, paths
    assert len(forms) >= 9, [f.page for f, _ in forms]
    other = hidden(new_app(provider).get("/account/login"), "csrf_token")
    right_code = device.code()  # refused with every form below, so never spent
    for form, browser in forms:
        for token_field in ([], [("csrf_token", other)]):
            fields = [(k, v) for k, v in form.fields if k != "csrf_token"]
            fields += [("code", right_code if "second" in form.page else "000000")]
            fields += [("proof", alice.password), *token_field]
            before = _state(provider)
            response = browser.post(
                form.action, urlencode(fields), headers=EVIL, content_type=FORM, expect_errors=True
            )
            where = f"{form.page} -> {form.action}"
            assert response.status_int == 403, (where, response.status, response.text[:300])
            assert "Location" not in response.headers, where
            assert _state(provider) == before, where


def _bank(provider: Provider) -> RP:
    return make_client(provider.storage, "Bank", ["https://bank.example/cb"], require_mfa=True)


def _fields(page: webtest.TestResponse, **extra: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return {**fields, **extra}
