"""``oidc-core user create --send-verification``: the new user gets the link that
confirms the address, through a real SMTP server; ``--email-verified`` needs none."""

from __future__ import annotations

import logging

import pytest

from tests.support.cli import Cli, _user
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.smtp import Mailbox, link_in, mail_settings

Capsys = pytest.CaptureFixture[str]


def sending_to(cli: Cli, mailbox: Mailbox) -> None:
    for name, value in mail_settings(mailbox).items():
        cli.monkeypatch.setenv(f"OIDC_{name.upper()}", str(value))


def test_send_verification_mails_the_link(
    initialised: Cli, mailbox: Mailbox, capsys: Capsys
) -> None:
    sending_to(initialised, mailbox)
    result = _user(initialised, capsys, "New@Example.com", "--send-verification", "--locale", "fr")
    assert result.code == 0, result.out
    [message] = mailbox.wait()
    assert mailbox.recipients == [["new@example.com"]]
    assert message["Subject"] == "Confirmez votre adresse e-mail"
    assert link_in(message).startswith("/account/verify-email?token=")
    rows = initialised.rows("SELECT purpose, email, expires_at - created_at FROM oidc_account_link")
    assert rows == [("verify", "new@example.com", 86400)]
    assert initialised.rows("SELECT email_verified FROM oidc_user") == [(0,)]


def test_an_address_the_administrator_vouches_for_needs_no_link(
    initialised: Cli, mailbox: Mailbox, capsys: Capsys
) -> None:
    sending_to(initialised, mailbox)
    extra = ("--send-verification", "--email-verified")
    assert _user(initialised, capsys, "vouched@example.com", *extra).code == 0
    assert initialised.rows("SELECT email_verified FROM oidc_user") == [(1,)]
    assert initialised.rows("SELECT COUNT(*) FROM oidc_account_link") == [(0,)]
    assert mailbox.messages == []


def test_without_smtp_on_a_public_issuer_nothing_is_sent_and_it_is_logged(
    initialised: Cli, capsys: Capsys, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="oidc_core.mail"):
        assert _user(initialised, capsys, "x@example.com", "--send-verification").code == 0
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "not sent: no smtp_host" in logged and "token=" not in logged


def test_without_smtp_on_a_loopback_issuer_the_link_is_logged(
    initialised: Cli, capsys: Capsys, caplog: pytest.LogCaptureFixture
) -> None:
    """The demo (``oidc-core serve``): the reader finds the link in the log."""
    initialised.monkeypatch.setenv("OIDC_ISSUER", "http://127.0.0.1:8000")
    with caplog.at_level(logging.WARNING, logger="oidc_core.mail"):
        assert _user(initialised, capsys, "x@example.com", "--send-verification").code == 0
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "http://127.0.0.1:8000/account/verify-email?token=" in logged


def test_an_administrator_marks_an_existing_address_verified_with_an_audit_entry(
    initialised: Cli, capsys: Capsys
) -> None:
    assert _user(initialised, capsys, "old@example.com").code == 0
    done = initialised("user", "verify-email", "--email", "Old@Example.com", capsys=capsys)
    assert done.code == 0 and "old@example.com is verified" in done.out
    assert initialised.rows("SELECT email_verified FROM oidc_user") == [(1,)]
    undone = initialised(
        "user", "verify-email", "--email", "old@example.com", "--unset", capsys=capsys
    )
    assert undone.code == 0 and "is not verified" in undone.out
    assert initialised.rows("SELECT email_verified FROM oidc_user") == [(0,)]
    actions = initialised.rows("SELECT action, target FROM oidc_audit_log ORDER BY id")
    assert actions[-2:] == [
        ("user.email_verified", "old@example.com"),
        ("user.email_unverified", "old@example.com"),
    ]
    missing = initialised("user", "verify-email", "--email", "nobody@example.com", capsys=capsys)
    assert missing.code == "no user with email nobody@example.com"
