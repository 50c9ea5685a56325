"""What a change to an account ends besides its sessions: a password reset link mailed
before a password change, an address change or a suspension no longer works (it was sent
for the account as it was), and a sign-in still waiting for its second step ends with a
reset or a suspension.  A password change is not a new sign-in: the session keeps its
``auth_time``.  Mail goes to a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Settings
from oidc_core.storage import Storage
from tests.flows.test_email_verification import change_email, signed_in
from tests.support.account_links import (
    another_browser,
    mail_app,
    new_password,
    provider_of,
    reset_link,
)
from tests.support.account_pages import change_password, sign_in
from tests.support.account_status import set_status
from tests.support.flow import Account
from tests.support.mfa import enrol, second_factor_page, second_step
from tests.support.smtp import Mailbox

pytestmark = pytest.mark.mounts("one")

DEAD = "This link does not work (any more)"
NEW = "a brand new password"


def auth_time(app: webtest.TestApp) -> int | None:
    provider = provider_of(app)
    key = app.cookies.get(provider.settings.session_cookie_name, "")
    session = provider.storage.sessions.by_key(key)
    assert session is not None
    return session.auth_time


@pytest.mark.parametrize("change", ["password", "email", "suspension"])
def test_a_reset_link_mailed_before_a_change_to_the_account_is_dead(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account, change: str
) -> None:
    """MAIL-15: the link was for the account as it was (its password, the mailbox it went
    to, an active account); after the change it opens nothing and changes nothing."""
    app = mail_app(settings, storage, mailbox)
    link = reset_link(another_browser(app), mailbox, alice.email)
    browser = signed_in(another_browser(app), alice)
    if change == "password":
        assert change_password(browser, alice.password, "another new password").status_int == 303
    elif change == "email":
        assert change_email(browser, "alice@new.example", alice.password).status_int == 303
    else:
        set_status(app, provider_of(app), alice, "suspended")
    stranger = another_browser(app)
    assert DEAD in stranger.get(link, expect_errors=True).text
    user = storage.users.by_id(storage.users.by_subject(alice.subject).id)  # type: ignore[union-attr]
    assert user is not None
    before = user.password_hash
    response = stranger.post(
        "/account/reset-password",
        {"token": link.split("token=", 1)[1], "new_password": NEW, "new_password_again": NEW},
        expect_errors=True,
    )
    assert response.status_int in (400, 403)
    after = storage.users.by_subject(alice.subject)
    assert after is not None and after.password_hash == before


def test_a_reset_ends_a_sign_in_waiting_for_its_second_step(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    """MFA-11: someone who had the old password and stands at the second step cannot
    finish once the password was reset, even with a right code."""
    app = mail_app(settings, storage, mailbox)
    device = enrol(signed_in(another_browser(app), alice))
    intruder = another_browser(app)
    step = second_factor_page(
        sign_in(intruder, alice.email, alice.password), "/account/login/second-factor"
    )
    link = reset_link(another_browser(app), mailbox, alice.email)
    assert new_password(another_browser(app), link, NEW).status_int == 200
    done = second_step(intruder, step, device.code())
    assert done.status_int == 400, done.status
    assert intruder.get("/account/", expect_errors=True).status_int == 303  # not signed in


def test_a_password_change_keeps_the_sessions_sign_in_time(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    """ACR-11: ``max_age`` and step-up judge the sign-in; a password typed on the
    profile page is not one (the session keeps its ``auth_time``)."""
    app = mail_app(settings, storage, mailbox)
    browser = signed_in(another_browser(app), alice)
    storage.database.execute_sql("UPDATE oidc_browser_session SET auth_time = auth_time - 600")
    before = auth_time(browser)
    assert change_password(browser, alice.password, "another new password").status_int == 303
    assert auth_time(browser) == before
