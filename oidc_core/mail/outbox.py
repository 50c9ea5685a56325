"""Sending mail from a background thread, through the configured SMTP server.

:meth:`Outbox.post` queues a function that composes the message and returns at once: the
page that asked answers without waiting for the SMTP server, and the same whether a
message was queued or not.  One thread per process sends them in order, each connection
step bounded by ``smtp_timeout``; a failure is logged (never the password) and the message
dropped.  Without ``smtp_host`` the message is written to the log instead on a loopback
issuer (development: ``oidc-core serve`` shows the links), and only noted elsewhere.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage

from ..settings import Settings

log = logging.getLogger(__name__)

Compose = Callable[[], EmailMessage]
QUEUE_LIMIT = 1000  # messages waiting; beyond it new ones are dropped (and logged)


class Outbox:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._queue: queue.Queue[Compose] = queue.Queue(QUEUE_LIMIT)
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def post(self, compose: Compose) -> None:
        """Queue a message (``compose`` builds it in the sending thread); never raises."""
        try:
            self._queue.put_nowait(compose)
        except queue.Full:
            log.error("mail not sent: %d messages are already waiting", QUEUE_LIMIT)
            return
        self._start()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued message was sent (or failed); False on timeout."""
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout)

    def _start(self) -> None:
        # A forked worker inherits the object but not the thread: start one where none runs.
        with self._starting:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="oidc-mail", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            compose = self._queue.get()
            try:
                self._deliver(compose())
            except Exception:  # a bug in composing: logged; the thread goes on
                log.exception("mail not sent: the message could not be composed")
            finally:
                self._queue.task_done()

    def _deliver(self, message: EmailMessage) -> None:
        settings = self._settings
        if not settings.smtp_host:
            if settings.is_loopback:
                body = message.get_body(("plain",))
                text = body.get_content() if body is not None else ""
                log.warning(
                    "no smtp_host: mail to %s not sent, here it is:\nSubject: %s\n\n%s",
                    message["To"],
                    message["Subject"],
                    text,
                )
            else:
                log.warning("mail to %s not sent: no smtp_host is configured", message["To"])
            return
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, TLS, login
            log.warning(
                "mail to %s not sent: %s:%d: %s: %s",
                message["To"],
                settings.smtp_host,
                settings.smtp_port,
                type(exc).__name__,
                exc,
            )
        else:
            log.info("mail sent to %s", message["To"])

    def _connect(self) -> smtplib.SMTP:
        """A connection, protected as ``smtp_security`` says and logged in if configured."""
        settings = self._settings
        host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
        context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
        smtp: smtplib.SMTP
        if settings.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=context)  # SMTPNotSupportedError if not offered
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp
