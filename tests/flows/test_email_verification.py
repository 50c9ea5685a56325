"""Email verification (docs/account.md): changing the address on the profile page makes it
unverified and mails a link to the new one; ``email_verified`` becomes true only through
that link, for the address it was sent to while it is still the account's.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Settings
from oidc_core.account.links import send_verification
from oidc_core.storage import Storage
from tests.support.account_links import another_browser, mail_app, provider_of, sent, use_link
from tests.support.account_pages import csrf, post, sign_in
from tests.support.admin_api import Api, error_of, new_token, response_json
from tests.support.flow import Account, hidden
from tests.support.smtp import Mailbox, link_in, nothing_arrives, text_of

pytestmark = pytest.mark.mounts("one")

NEW_ADDRESS = "alice@new.example"
DEAD = "This link does not work (any more)"


def verified(storage: Storage, email: str) -> bool | None:
    """Whether the account with ``email`` has it verified (None: no such account)."""
    user = storage.users.by_email(email)
    return None if user is None else user.email_verified


def signed_in(app: webtest.TestApp, user: Account) -> webtest.TestApp:
    assert sign_in(app, user.email, user.password).status_int == 303
    return app


def change_email(app: webtest.TestApp, email: str, password: str) -> webtest.TestResponse:
    fields = {"email": email, "current_password": password}
    return post(app, "/account/email", fields, token=csrf(app, "/account/profile"))


def test_a_changed_address_is_verified_by_the_link_mailed_to_it(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    assert "Your address alice@example.com is confirmed." in app.get("/account/profile").text
    response = change_email(app, " Alice@New.example ", alice.password)
    assert response.status_int == 303, response.text[:500]
    assert response.headers["Location"].endswith("/account/profile?notice=email-changed")
    assert verified(storage, NEW_ADDRESS) is False
    assert "is not confirmed yet" in app.get("/account/profile").text
    [message] = mailbox.wait()
    assert mailbox.recipients == [[NEW_ADDRESS]]  # the new address, not the old one
    assert message["Subject"] == "Confirm your email address"
    assert "alice@new.example" in text_of(message)
    link = link_in(message)
    assert link.startswith("/account/verify-email?token=")
    page = app.get(link)  # opening it (a mail scanner) confirms nothing
    assert NEW_ADDRESS in page.text and verified(storage, NEW_ADDRESS) is False
    stranger = another_browser(app)  # the link works in any browser, signed in or not
    form = stranger.get(link)
    fields = {"token": hidden(form, "token"), "csrf_token": hidden(form, "csrf_token")}
    done = stranger.post("/account/verify-email", fields)
    assert done.status_int == 200 and "alice@new.example is confirmed" in done.text
    assert verified(storage, NEW_ADDRESS) is True
    again = stranger.post("/account/verify-email", fields, expect_errors=True)
    assert again.status_int == 400 and DEAD in again.text
    assert stranger.get(link, expect_errors=True).status_int == 400
    assert sign_in(another_browser(app), NEW_ADDRESS, alice.password).status_int == 303


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not an address", None, "Enter an email address"),
        ("bob@example.com,me@evil.example", None, "Enter an email address"),
        ("Me <me@evil.example>", None, "Enter an email address"),
        ("me@evil.example;bob@example.com", None, "Enter an email address"),
        ("a@b.example" + "x" * 320, None, "Enter an email address"),
        ("bob@example.com", None, "Another account uses this address."),
        (NEW_ADDRESS, "not my password", "This is not your current password."),
    ],
)
def test_a_refused_address_change_changes_nothing_and_sends_nothing(
    settings: Settings,
    storage: Storage,
    mailbox: Mailbox,
    alice: Account,
    bob: Account,
    email: str,
    password: str | None,
    message: str,
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    response = change_email(app, email, password or alice.password)
    assert response.status_int == 400 and message in response.text
    assert verified(storage, alice.email) is True
    sent(app)
    assert nothing_arrives(mailbox)


def test_changing_the_address_needs_the_csrf_token(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    fields = {"email": NEW_ADDRESS, "current_password": alice.password}
    assert post(app, "/account/email", fields, token=None).status_int == 403
    assert verified(storage, alice.email) is True and verified(storage, NEW_ADDRESS) is None


def test_confirming_needs_the_csrf_token_of_the_browser(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    change_email(app, NEW_ADDRESS, alice.password)
    link = link_in(mailbox.wait()[0])
    assert use_link(app, link, {}, with_csrf=False).status_int == 403
    assert verified(storage, NEW_ADDRESS) is False
    assert use_link(app, link, {}).status_int == 200


def test_a_link_for_an_address_the_account_no_longer_has_confirms_nothing(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    change_email(app, NEW_ADDRESS, alice.password)
    link = link_in(mailbox.wait()[0])
    user = storage.users.by_email(NEW_ADDRESS)
    assert user is not None
    storage.users.change_email(user.id, "alice@third.example")  # not through the page
    answer = use_link(app, link, {})
    assert answer.status_int == 409 and "no longer the address of the account" in answer.text
    assert verified(storage, "alice@third.example") is False


def test_a_newer_link_ends_the_older_one_and_links_expire(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    change_email(app, NEW_ADDRESS, alice.password)
    change_email(app, "alice@newer.example", alice.password)
    first, second = (link_in(m) for m in mailbox.wait(2))
    assert app.get(first, expect_errors=True).status_int == 400
    lifetime = storage.database.execute_sql(
        "SELECT expires_at - created_at FROM oidc_account_link"
    ).fetchone()[0]
    assert lifetime == 24 * 3600
    storage.database.execute_sql("UPDATE oidc_account_link SET expires_at = expires_at - 86401")
    late = app.get(second, expect_errors=True)
    assert late.status_int == 400 and DEAD in late.text


def test_send_verification_mails_the_current_address_in_the_accounts_language(
    settings: Settings, storage: Storage, mailbox: Mailbox
) -> None:
    """The function the management API and the CLI call."""
    app = mail_app(settings, storage, mailbox)
    user = storage.users.create("hans@example.de", "x", locale="de")
    send_verification(provider_of(app), user)
    [message] = mailbox.wait()
    assert message["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse"
    assert message["Content-Language"] == "de"
    assert use_link(app, link_in(message), {}).status_int == 200
    assert verified(storage, "hans@example.de") is True


def test_the_purge_deletes_links_past_their_lifetime_used_or_not(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account, bob: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox), alice)
    change_email(app, NEW_ADDRESS, alice.password)
    assert use_link(app, link_in(mailbox.wait()[0]), {}).status_int == 200  # used
    bobs = storage.users.by_email(bob.email)
    assert bobs is not None
    send_verification(provider_of(app), bobs)  # not used
    assert storage.purge(grace=0, failure_window=3600)["oidc_account_link"] == 0
    storage.database.execute_sql("UPDATE oidc_account_link SET expires_at = expires_at - 86401")
    assert storage.purge(grace=3600, failure_window=3600)["oidc_account_link"] == 0
    assert storage.purge(grace=0, failure_window=3600)["oidc_account_link"] == 2


def test_the_link_can_be_sent_again_which_ends_the_older_one(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = signed_in(mail_app(settings, storage, mailbox, login_pair_lock_threshold=3), alice)
    change_email(app, NEW_ADDRESS, alice.password)  # the first link (not counted)
    again = post(app, "/account/email/send-link", token=csrf(app, "/account/profile"))
    assert again.status_int == 303
    assert again.headers["Location"].endswith("/account/profile?notice=link-sent")
    first = link_in(mailbox.wait(2)[0])
    assert mailbox.recipients[1] == [NEW_ADDRESS]
    assert app.get(first, expect_errors=True).status_int == 400
    assert post(app, "/account/email/send-link", token=None).status_int == 403
    answers = [
        post(app, "/account/email/send-link", token=csrf(app, "/account/profile")).status_int
        for _ in range(3)
    ]
    assert answers == [303, 303, 429]  # the 1st above and these: 3 links, then locked
    assert use_link(app, link_in(mailbox.wait(4)[3]), {}).status_int == 200
    assert "Send the confirmation link again" not in app.get("/account/profile").text
    confirmed = post(app, "/account/email/send-link", token=csrf(app, "/account/profile"))
    assert confirmed.status_int == 303 and confirmed.headers["Location"].endswith("/profile")
    sent(app)
    assert len(mailbox.messages) == 4


def test_the_api_creates_a_user_and_mails_the_confirmation_link(
    settings: Settings, storage: Storage, mailbox: Mailbox
) -> None:
    """MAIL-11: ``send_verification`` on the management API's user creation mails the link;
    the address is unconfirmed until it is used; with ``email_verified`` true it is 400."""
    app = mail_app(settings, storage, mailbox)
    api = Api(app, new_token(provider_of(app))[1])
    refused = api.call(
        "POST",
        "/admin/api/users",
        {"email": "dora@example.com", "email_verified": True, "send_verification": True},
        status=400,
    )
    assert error_of(refused)["field"] == "send_verification"
    assert storage.users.by_email("dora@example.com") is None
    data = {"email": "dora@example.com", "send_verification": True}
    created = response_json(api.call("POST", "/admin/api/users", data, status=201))
    assert created["email_verified"] is False
    [message] = mailbox.wait()
    assert message["To"] == "dora@example.com"
    assert use_link(app, link_in(message), {}).status_int == 200
    assert verified(storage, "dora@example.com") is True
