"""Sending through SMTP (docs/account.md, "Mail"): STARTTLS and TLS with the certificate
checked, no fallback to plain text, and no page waiting on a server that is down, slow or
refused: the page gives its usual answer and the log says why nothing was sent.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from oidc_core import Settings
from oidc_core.storage import Storage
from tests.support.account_links import ask_reset, mail_app, new_password, reset_link, sent
from tests.support.flow import Account
from tests.support.smtp import Mailbox
from tests.support.tls import TLSFiles

pytestmark = pytest.mark.mounts("one")

SENT = "If an account has this address, we sent a link to it."
NEW = "a brand new password"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    yield int(server.getsockname()[1])
    server.close()


def test_without_smtp_the_page_answers_the_same(
    settings: Settings,
    storage: Storage,
    mailbox: Mailbox,
    alice: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SMTP down (nothing listens): the same 303 and text, no 5xx; the failure is logged."""
    app = mail_app(settings, storage, mailbox, smtp_port=closed_port())
    response = ask_reset(app, alice.email)
    assert response.status_int == 303
    assert SENT in app.get(response.headers["Location"]).text
    sent(app)
    assert any("mail to alice@example.com not sent" in r.getMessage() for r in caplog.records)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_starttls_delivers_with_the_certificate_checked(
    settings: Settings,
    storage: Storage,
    starttls_mailbox: Mailbox,
    alice: Account,
    tls_files: object,
) -> None:
    app = mail_app(settings, storage, starttls_mailbox, smtp_ca_file=str(tls_files.ca_file))  # type: ignore[attr-defined]
    link = reset_link(app, starttls_mailbox, alice.email)
    assert new_password(app, link, NEW).status_int == 200


def test_ssl_delivers_with_the_certificate_checked(
    settings: Settings, storage: Storage, ssl_mailbox: Mailbox, alice: Account, tls_files: TLSFiles
) -> None:
    app = mail_app(settings, storage, ssl_mailbox, smtp_ca_file=str(tls_files.ca_file))
    assert reset_link(app, ssl_mailbox, alice.email).startswith("/account/reset-password?")


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_sends_nothing(
    settings: Settings,
    storage: Storage,
    starttls_mailbox: Mailbox,
    ssl_mailbox: Mailbox,
    alice: Account,
    security: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the suite's CA the server's certificate is refused: no message, a log line."""
    mailbox = starttls_mailbox if security == "starttls" else ssl_mailbox
    app = mail_app(settings, storage, mailbox)
    assert ask_reset(app, alice.email).status_int == 303
    sent(app)
    assert mailbox.messages == []
    assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)


def test_starttls_is_required_when_configured(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    """A server that offers no STARTTLS gets nothing (no fallback to plain text)."""
    app = mail_app(settings, storage, mailbox, smtp_security="starttls")
    assert ask_reset(app, alice.email).status_int == 303
    sent(app)
    assert mailbox.messages == []


def test_a_server_that_never_answers_delays_no_page(
    settings: Settings,
    storage: Storage,
    mailbox: Mailbox,
    alice: Account,
    silent_server: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The message waits in the background (smtp_timeout), the page answers at once."""
    app = mail_app(settings, storage, mailbox, smtp_port=silent_server, smtp_timeout=1)
    started = time.perf_counter()
    response = ask_reset(app, alice.email)
    assert time.perf_counter() - started < 0.5
    assert response.status_int == 303
    sent(app)
    assert any("timed out" in r.getMessage() for r in caplog.records)
