"""Password reset by email (docs/account.md): a link to the account's address, single-use,
30 minutes, ended by a newer one; the same answer for an address without an account; after
the reset every token and session of the account ends.  Mail goes to a real SMTP server.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import make_client
from tests.flows.test_host_accounts import BillingUsers, _host_app, billing, root_settings
from tests.support.account_links import (
    another_browser,
    ask_reset,
    mail_app,
    new_password,
    provider_of,
    reset_link,
    sent,
    use_link,
)
from tests.support.account_pages import alive, offline_rp, sign_in, tokens
from tests.support.account_status import set_status
from tests.support.flow import Account, Flow, hidden
from tests.support.login_consent_rows import count
from tests.support.race import racing
from tests.support.smtp import Mailbox, html_of, link_in, nothing_arrives, text_of

pytestmark = pytest.mark.mounts("one")
__all__ = ["billing", "root_settings"]  # the host accounts' fixtures

SENT = "If an account has this address, we sent a link to it."
DEAD = "This link does not work (any more)"
NEW = "a brand new password"


def test_a_password_is_reset_through_the_link_mailed_to_the_account(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    rp = make_client(storage, "App A", ["https://a.example/cb"])
    an_app = another_browser(app)
    an_apps = Flow(an_app, rp, alice).start().headers["Location"]
    for browser, sign_in_page in (
        (app, "/account/login"),
        (app, "/admin/login"),
        (an_app, an_apps),
    ):
        page = browser.get(sign_in_page)
        assert 'href="https://op.example/account/forgot-password"' in page.text, sign_in_page
    response = ask_reset(app, "  Alice@Example.com ")
    assert response.headers["Location"] == "https://op.example/account/forgot-password?sent=1"
    assert SENT in app.get(response.headers["Location"]).text
    [message] = mailbox.wait()
    assert mailbox.recipients == [["alice@example.com"]]
    assert message["To"] == "alice@example.com"
    assert message["From"] == "OP <no-reply@op.example>"
    assert message["Subject"] == "Reset your password"
    assert message.get_content_type() == "multipart/alternative"
    assert "within 30 minutes" in text_of(message) and "<a href=" in html_of(message)
    link = link_in(message)
    assert link.startswith("/account/reset-password?token=")
    assert len(link.split("token=")[1]) == 43  # 256 bits
    # Opening the link (a mail scanner, the reader twice) does not use it.
    assert app.get(link).status_int == 200
    done = new_password(app, link, NEW)
    assert done.status_int == 200, done.text[:500]
    assert "Your password was changed." in done.text
    assert sign_in(another_browser(app), alice.email, alice.password).status_int == 401
    assert sign_in(another_browser(app), alice.email, NEW).status_int == 303
    # T: the link is used up.
    again = app.get(link, expect_errors=True)
    assert again.status_int == 400 and DEAD in again.text
    token = link.split("token=")[1]
    rows = storage.database.execute_sql("SELECT token_digest FROM oidc_account_link").fetchall()
    assert [len(row[0]) for row in rows] == [64] and token not in str(rows)


def test_a_used_link_is_refused(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    link = reset_link(app, mailbox, alice.email)
    page = app.get(link)
    assert new_password(app, link, NEW).status_int == 200
    fields = {
        "token": hidden(page, "token"),
        "csrf_token": hidden(page, "csrf_token"),
        "new_password": "the attacker's password",
        "new_password_again": "the attacker's password",
    }
    reused = app.post("/account/reset-password", fields, expect_errors=True)
    assert reused.status_int == 400 and DEAD in reused.text
    assert sign_in(another_browser(app), alice.email, NEW).status_int == 303


def test_the_same_answer_whether_the_address_has_an_account_or_not(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    app.get("/account/forgot-password")
    known, unknown = ask_reset(app, alice.email), ask_reset(app, "nobody@example.com")
    assert (known.status, known.body) == (unknown.status, unknown.body)
    ignored = {"X-Request-Id"}
    assert [(k, v) for k, v in known.headerlist if k not in ignored] == [
        (k, v) for k, v in unknown.headerlist if k not in ignored
    ]
    assert mailbox.wait()[0]["To"] == alice.email
    sent(app)
    assert len(mailbox.messages) == 1


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_an_account_that_is_not_active_is_answered_like_an_unknown_address(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account, status: str
) -> None:
    """MAIL-5: no link for a suspended or closed account, and the same answer as for an
    address without an account (a reset must not bring a suspended customer back)."""
    app = mail_app(settings, storage, mailbox)
    set_status(app, provider_of(app), alice, status)
    app.get("/account/forgot-password")
    known, unknown = ask_reset(app, alice.email), ask_reset(app, "nobody@example.com")
    assert (known.status, known.body) == (unknown.status, unknown.body)
    sent(app)
    assert nothing_arrives(mailbox)
    assert count(provider_of(app), "SELECT COUNT(*) FROM oidc_account_link") == 0


def test_a_newer_link_ends_the_older_one(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    first = reset_link(app, mailbox, alice.email)
    second = reset_link(app, mailbox, alice.email, nth=2)
    assert first != second
    old = app.get(first, expect_errors=True)
    assert old.status_int == 400 and DEAD in old.text
    assert new_password(app, second, NEW).status_int == 200


def test_an_expired_link_is_refused(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    link = reset_link(app, mailbox, alice.email)
    page = app.get(link)
    lifetime = storage.database.execute_sql(
        "SELECT expires_at - created_at FROM oidc_account_link"
    ).fetchone()[0]
    assert lifetime == 30 * 60
    storage.database.execute_sql("UPDATE oidc_account_link SET expires_at = expires_at - 1801")
    assert app.get(link, expect_errors=True).status_int == 400
    fields = {
        "token": hidden(page, "token"),
        "csrf_token": hidden(page, "csrf_token"),
        "new_password": NEW,
        "new_password_again": NEW,
    }
    late = app.post("/account/reset-password", fields, expect_errors=True)
    assert late.status_int == 400 and DEAD in late.text
    assert sign_in(another_browser(app), alice.email, alice.password).status_int == 303


def test_a_link_acts_on_its_own_account_only(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account, bob: Account
) -> None:
    """Bob's link, posted with Alice's address or subject, changes Bob's password only."""
    app = mail_app(settings, storage, mailbox)
    link = reset_link(app, mailbox, bob.email)
    fields = {
        "new_password": NEW,
        "new_password_again": NEW,
        "email": alice.email,
        "sub": alice.subject,
    }
    assert use_link(app, link, fields).status_int == 200
    assert sign_in(another_browser(app), alice.email, alice.password).status_int == 303
    assert sign_in(another_browser(app), alice.email, NEW).status_int == 401
    assert sign_in(another_browser(app), bob.email, NEW).status_int == 303
    # A made-up token for Alice does nothing either.
    forged = app.get("/account/reset-password?token=" + "A" * 43, expect_errors=True)
    assert forged.status_int == 400 and DEAD in forged.text


def test_after_a_reset_every_token_and_session_of_the_account_ends(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account, bob: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    rp = offline_rp(storage, "App A", "a.example", backchannel_logout_uri="https://a.example/bc")
    body = tokens(app, rp, alice)  # this browser is signed in as Alice, with tokens
    bobs_browser = another_browser(app)
    bobs = tokens(bobs_browser, rp, bob)
    assert app.get("/account/").status_int == 200
    link = reset_link(another_browser(app), mailbox, alice.email)
    stranger = another_browser(app)
    assert new_password(stranger, link, NEW).status_int == 200
    assert app.get("/account/").status_int == 303  # the old session cookie is signed out
    assert not any(alive(app, rp, body).values())  # refresh refused, access token dead
    assert count(provider_of(app), "SELECT COUNT(*) FROM oidc_backchannel_delivery") == 1
    assert all(alive(bobs_browser, rp, bobs).values())  # Bob keeps his
    assert bobs_browser.get("/account/").status_int == 200


def test_a_reset_clears_the_failed_sign_in_counters_of_the_account(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    for _ in range(5):
        assert sign_in(another_browser(app), alice.email, "wrong").status_int == 401
    locked = sign_in(another_browser(app), alice.email, alice.password)
    assert locked.status_int == 429  # the pair lock of this address
    assert new_password(app, reset_link(app, mailbox, alice.email), NEW).status_int == 200
    assert sign_in(another_browser(app), alice.email, NEW).status_int == 303


def test_reset_requests_are_counted_by_the_brute_force_limits(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    """At most login_pair_lock_threshold links per address per lock; then 429 with
    Retry-After, for an address with an account and one without alike."""
    app = mail_app(settings, storage, mailbox, login_pair_lock_threshold=3)
    for email in (alice.email, "nobody@example.com"):
        answers = [ask_reset(app, email) for _ in range(4)]
        assert [a.status_int for a in answers] == [303, 303, 303, 429]
        assert "Too many requests" in answers[-1].text
        assert int(answers[-1].headers["Retry-After"]) > 0
    sent(app)
    assert len(mailbox.messages) == 3
    # From another address Alice still gets a link once the lock ends? Not before: the
    # lock is on her address (the mail: counter), whoever asks.
    elsewhere = another_browser(app, REMOTE_ADDR="198.51.100.77")
    assert ask_reset(elsewhere, alice.email).status_int == 429


def test_every_form_refuses_a_post_without_its_csrf_token(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    assert ask_reset(app, alice.email, token=None).status_int == 403
    other = hidden(another_browser(app).get("/account/forgot-password"), "csrf_token")
    assert ask_reset(app, alice.email, token=other).status_int == 403
    sent(app)
    assert nothing_arrives(mailbox)
    link = reset_link(app, mailbox, alice.email)
    fields = {"new_password": NEW, "new_password_again": NEW}
    assert use_link(app, link, fields, with_csrf=False).status_int == 403
    assert sign_in(another_browser(app), alice.email, alice.password).status_int == 303
    assert new_password(app, link, NEW).status_int == 200  # the link still works


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("short", None, "Use at least 8 characters."),
        (NEW, "another one", "The two new passwords are not the same."),
    ],
)
def test_a_refused_new_password_changes_nothing_and_keeps_the_link(
    settings: Settings,
    storage: Storage,
    mailbox: Mailbox,
    alice: Account,
    new: str,
    again: str | None,
    message: str,
) -> None:
    app = mail_app(settings, storage, mailbox)
    link = reset_link(app, mailbox, alice.email)
    refused = new_password(app, link, new, again)
    assert refused.status_int == 400 and message in refused.text
    assert sign_in(another_browser(app), alice.email, alice.password).status_int == 303
    assert new_password(app, link, NEW).status_int == 200


@pytest.mark.parametrize(
    "query",
    ["", "?token=", "?token=" + "x" * 300, "?token=a&token=b", "?token=%ff%fe", "?token=%00"],
)
def test_a_bad_link_is_a_clear_4xx(
    settings: Settings, storage: Storage, mailbox: Mailbox, query: str
) -> None:
    app = mail_app(settings, storage, mailbox)
    for path in ("/account/reset-password", "/account/verify-email"):
        response = app.get(path + query, expect_errors=True)
        assert 400 <= response.status_int < 500, (path, query, response.status)
        assert "Traceback" not in response.text


ROUNDS = 4  # a race lost once in a while: each round is another chance to see it


def test_two_parallel_uses_of_one_link_one_wins(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    app = mail_app(settings, storage, mailbox)
    browsers = [another_browser(app) for _ in range(2)]

    def use(
        browser: webtest.TestApp, page: webtest.TestResponse, password: str
    ) -> Callable[[], int]:
        fields = {
            "token": hidden(page, "token"),
            "csrf_token": hidden(page, "csrf_token"),
            "new_password": password,
            "new_password_again": password,
        }
        return lambda: int(
            browser.post("/account/reset-password", fields, expect_errors=True).status_int
        )

    with racing(provider_of(app), 2) as racer:
        for round_ in range(1, ROUNDS + 1):
            link = reset_link(app, mailbox, alice.email, nth=round_)
            pages = [browser.get(link) for browser in browsers]
            passwords = [f"round {round_}, password {n}" for n in range(2)]
            calls = [use(b, p, w) for b, p, w in zip(browsers, pages, passwords, strict=True)]
            assert sorted(racer.run(calls)) == [200, 400], round_
            works = [sign_in(another_browser(app), alice.email, w).status_int for w in passwords]
            assert sorted(works) == [303, 401], round_


def test_host_accounts_get_no_link_and_are_sent_to_the_host(
    root_settings: Settings, storage: Storage, billing: BillingUsers
) -> None:
    app = _host_app(Provider(root_settings, storage=storage, accounts=billing))
    assert "forgot-password" not in app.get("/account/login").text
    page = app.get("/account/forgot-password", expect_errors=True)
    assert page.status_int == 403 and "managed by the site you signed in with" in page.text
    asked = app.post(
        "/account/forgot-password", {"email": "carol@billing.example"}, expect_errors=True
    )
    assert asked.status_int == 403
    assert count(app.app, "SELECT COUNT(*) FROM oidc_account_link") == 0
