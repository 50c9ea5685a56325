"""The password change on the account pages: refused changes change nothing, a change
revokes tokens and ends other sessions unless the policy says otherwise.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import new_app
from tests.support.account_pages import (
    PHONE,
    alive,
    app_names,
    browser,
    change_password,
    offline_rp,
    provider_with,
    sign_in,
    tokens,
)
from tests.support.console_pages import session_key
from tests.support.flow import Account, issuer_of

# -- password -------------------------------------------------------------------------------


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
