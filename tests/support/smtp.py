"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, an ephemeral port) that keeps
the messages it receives, parsed; plain, with STARTTLS, or TLS from the first byte.

``mailbox`` is a plain server; ``mail_settings(mailbox)`` are the settings that send to it.
Messages arrive from the provider's sending thread: :meth:`Mailbox.wait` waits for them.
"""

from __future__ import annotations

import email
import gc
import re
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.tls import TLSFiles

LINK = re.compile(r"https?://[^\s\"<>]+/account/[a-z-]+\?token=[A-Za-z0-9_-]+")


class _EphemeralController(Controller):  # type: ignore[misc]
    """A controller on port 0: the port the system chose is known once it listens."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Mailbox:
    """The server's handler: every message received, and the envelope's recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.port = 0
        self.security = "none"
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The first ``count`` messages, once they have arrived (AssertionError if not)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert arrived, f"{len(self.messages)} message(s) arrived, {count} expected"
        return self.messages[:count]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None, "no text/html part"
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage) -> str:
    """The link of a message (the same in its text and its HTML), as a path and query."""
    found = LINK.findall(text_of(message))
    assert len(found) == 1, text_of(message)
    assert found[0] in html_of(message)
    return "/" + found[0].split("/", 3)[3]


def mail_settings(mailbox: Mailbox, **more: Any) -> dict[str, Any]:
    """The settings that send the provider's mail to ``mailbox``."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "smtp_security": mailbox.security,
        "smtp_timeout": 5,
        "mail_from": "OP <no-reply@op.example>",
        **more,
    }


def mail_environment(mailbox: Mailbox) -> dict[str, str]:
    """The environment that sends a live server's mail (``oidc-core serve``) to ``mailbox``."""
    return {
        "OIDC_SMTP_HOST": "127.0.0.1",
        "OIDC_SMTP_PORT": str(mailbox.port),
        "OIDC_SMTP_SECURITY": mailbox.security,
    }


def stop(controller: _EphemeralController) -> None:
    """Stop the server; a connection our client dropped in the TLS handshake (an untrusted
    certificate) leaves the server a transport it never closed: collected here, quietly."""
    controller.stop()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def serve(mailbox: Mailbox, **kwargs: Any) -> _EphemeralController:
    controller = _EphemeralController(mailbox, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    mailbox.port = controller.port
    return controller


def server_context(tls: TLSFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = serve(box)
    yield box
    stop(controller)


@pytest.fixture
def starttls_mailbox(tls_files: TLSFiles) -> Iterator[Mailbox]:
    """A server that accepts mail only after STARTTLS, with a certificate of the suite's CA."""
    box = Mailbox()
    box.security = "starttls"
    controller = serve(box, tls_context=server_context(tls_files), require_starttls=True)
    yield box
    stop(controller)


@pytest.fixture
def ssl_mailbox(tls_files: TLSFiles) -> Iterator[Mailbox]:
    """A server speaking TLS from the first byte (port 465 style)."""
    box = Mailbox()
    box.security = "ssl"
    controller = serve(box, ssl_context=server_context(tls_files))
    yield box
    stop(controller)


def nothing_arrives(mailbox: Mailbox, wait: float = 0.3) -> bool:
    """True when no message arrived (after the sender's queue is idle, and a short wait)."""
    time.sleep(wait)
    return mailbox.messages == []
