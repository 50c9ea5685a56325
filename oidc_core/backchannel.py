"""OpenID Connect Back-Channel Logout 1.0: logout tokens and their delivery.

On sign-out, every client with a ``backchannel_logout_uri`` that was issued a code in the
browser session gets a logout token (section 2.4), queued in the same transaction that
ends the session.  A :class:`Sender` (a daemon thread per provider, started by a sign-out
and ended when no delivery is left) POSTs ``logout_token=<JWT>`` to each (section 2.5), off
the user's request, several at once so that a slow client delays no other.  A 2xx answer
delivers it; anything else (a redirect too: none is followed, or no answer within
:data:`TIMEOUT`) is tried again after :data:`RETRY_DELAY` seconds, doubled each time, up to
:data:`MAX_ATTEMPTS` attempts.  The POST uses no proxy but ``backchannel_proxy`` and,
unless ``backchannel_allow_private_addresses`` allows it, goes only to public addresses
(:mod:`oidc_core.outbound`).  While it runs, the sender also sends deliveries queued by
other processes; a process that has had no sign-out starts its sender when it finds
deliveries waiting (one query a minute at most), so a delivery outlives the process that
queued it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import weakref
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import outbound
from .records import BrowserSession, Client, LogoutDelivery, User
from .storage import StorageError
from .subjects import subject_for

if TYPE_CHECKING:
    from .context import Context
    from .storage import Storage

log = logging.getLogger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TTL = 120  # seconds a logout token is valid
TIMEOUT = 5.0  # seconds to wait for a client's answer
MAX_ATTEMPTS = 5
RETRY_DELAY = 10.0  # seconds before the second attempt; doubled after each failure
POLL_INTERVAL = 2.0  # seconds between looks at the table for due deliveries
PENDING_CHECK_INTERVAL = 60.0  # seconds between looks for deliveries left by other processes
THREAD_NAME = "oidc-backchannel-logout"
PARALLEL_ATTEMPTS = 8  # attempts made at once by a process's sender
ATTEMPTS_PER_HOST = 2  # of which at most this many to one host (a slow one takes no more)
DUE_BATCH = 100  # due deliveries looked at for the free places

_senders: weakref.WeakSet[Sender] = weakref.WeakSet()


def sign_out(op: Context, session: BrowserSession) -> None:
    """End ``session``, queueing the logout tokens in the same transaction; they are sent
    by the provider's sender thread, never within the caller's request."""
    if end_session(op, session):
        op.backchannel.wake()


def end_session(op: Context, session: BrowserSession) -> bool:
    """:func:`sign_out` without waking the sender (inside a caller's transaction, which
    wakes it once committed); True if logout tokens were queued."""
    tokens = logout_tokens(op, session)
    op.browser.end(session, tokens)
    return bool(tokens)


def logout_tokens(op: Context, session: BrowserSession) -> list[tuple[int, str]]:
    """(client pk, logout token) for each client to notify when ``session`` ends."""
    if not session.sid or session.user_id is None:
        return []
    user = op.storage.users.by_id(session.user_id)
    if user is None:
        return []
    clients = op.storage.sessions.signed_in_clients(session.sid)
    return [(client.id, logout_token(op, client, user.subject, session.sid)) for client in clients]


def revocation_tokens(op: Context, client: Client, user: User) -> list[tuple[int, str]]:
    """(client pk, logout token) to queue when ``user`` revokes ``client``: none when it
    registered no ``backchannel_logout_uri``; one per browser session it was issued the
    user's codes in when it requires ``sid``; otherwise one with ``sub`` only (section 2.4:
    every session of that user at the client)."""
    if not client.backchannel_logout_uri:
        return []
    if not client.backchannel_logout_session_required:
        return [(client.id, logout_token(op, client, user.subject, ""))]
    sids = op.storage.account.session_ids(user.id, client.id)
    return [(client.id, logout_token(op, client, user.subject, sid)) for sid in sids]


def logout_token(op: Context, client: Client, subject: str, sid: str) -> str:
    """Section 2.4: typ logout+jwt; iss, aud, iat, exp, jti, events, sub (the client's:
    pairwise for a pairwise client), and sid when the client asked for it; never a nonce."""
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": op.settings.issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + TOKEN_TTL,
        "jti": secrets.token_urlsafe(16),
        "events": {EVENT: {}},
        "sub": subject_for(op.storage, client, subject),
    }
    if client.backchannel_logout_session_required:
        claims["sid"] = sid
    return op.keys.sign(claims, client.id_token_signed_response_alg, typ="logout+jwt")


def post(uri: str, token: str, *, allow_private_addresses: bool, proxy: str = "") -> bool:
    """Section 2.5: POST the token form-encoded; True on a 2xx answer.  No redirect is
    followed, no proxy used but ``proxy``; a host resolving to an address that is not
    public is refused unless ``allow_private_addresses`` (see :mod:`oidc_core.outbound`)."""
    try:
        status = outbound.post_form(
            uri,
            {"logout_token": token},
            timeout=TIMEOUT,
            allow_private=allow_private_addresses,
            proxy=proxy,
        )
    except outbound.RefusedAddress as exc:
        log.warning("back-channel logout to %s refused: %s", uri, exc)
        return False
    except outbound.OutboundError as exc:
        log.info("back-channel logout to %s: %s", uri, exc)
        return False
    if not 200 <= status < 300:
        log.info("back-channel logout to %s: answered %d", uri, status)
    return 200 <= status < 300


class Sender:
    """Delivers due logout tokens in a daemon thread, started by :meth:`wake` and ended when
    no delivery is left to attempt.  The thread holds no database connection while it
    waits: it opens one per round and closes it after."""

    def __init__(self, storage: Storage, *, allow_private_addresses: bool, proxy: str = "") -> None:
        self._storage = storage
        self._allow_private_addresses = allow_private_addresses
        self._proxy = proxy
        self._wakeup = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._checked_at = float("-inf")
        _senders.add(self)

    def wake(self) -> None:
        """Start the thread if needed and have it look for due deliveries now."""
        with self._lock:
            if not self.running:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name=THREAD_NAME, daemon=True
                )
                self._thread.start()
            self._wakeup.set()

    def wake_if_pending(self) -> None:
        """Start the thread if deliveries wait that another process queued (it may have
        stopped since); looked up at most every :data:`PENDING_CHECK_INTERVAL` seconds,
        not at all while the thread runs."""
        now = time.monotonic()
        if now - self._checked_at < PENDING_CHECK_INTERVAL or self.running:
            return
        self._checked_at = now
        try:
            pending = self._storage.deliveries.next_attempt_at() is not None
        except StorageError:  # the request reports it if the database is away
            return
        if pending:
            self.wake()

    def stop(self, timeout: float = TIMEOUT + 1) -> None:
        """End the thread after its current attempt (a server's shutdown); the next
        :meth:`wake` starts a new one.  Deliveries left are kept for later."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wakeup.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether this process's sender thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wakeup.clear()
            try:
                self.send_due(stop)
                next_at = self._storage.deliveries.next_attempt_at()
            except Exception:  # the database may be away for a while: try again later
                log.warning("back-channel logout: deliveries not sent", exc_info=True)
                next_at = int(time.time())
            finally:
                self._storage.close()
            with self._lock:
                if stop.is_set() or (next_at is None and not self._wakeup.is_set()):
                    if self._thread is threading.current_thread():
                        self._thread = None
                    return
            if next_at is not None:
                self._wakeup.wait(_pause(next_at))

    def send_due(self, stop: threading.Event | None = None) -> int:
        """One round: attempt every due delivery, :data:`PARALLEL_ATTEMPTS` at once and at
        most :data:`ATTEMPTS_PER_HOST` to one host, so a slow client delays no other; new
        ones are looked for as attempts end and every :data:`POLL_INTERVAL` seconds, none
        once ``stop`` is set.  Only this thread uses the database; the pool's threads only
        POST.  Returns how many were delivered."""
        sent = 0
        in_flight: dict[Future[bool], LogoutDelivery] = {}
        with ThreadPoolExecutor(PARALLEL_ATTEMPTS, thread_name_prefix=THREAD_NAME) as pool:
            while True:
                if stop is None or not stop.is_set():
                    for delivery in self._claim_due(list(in_flight.values())):
                        in_flight[pool.submit(self._post, delivery)] = delivery
                if not in_flight:
                    return sent
                done, _ = wait(in_flight, timeout=POLL_INTERVAL, return_when=FIRST_COMPLETED)
                for future in done:
                    sent += self._record(in_flight.pop(future), future.result())

    def _claim_due(self, in_flight: list[LogoutDelivery]) -> list[LogoutDelivery]:
        """Due deliveries claimed for an attempt now, as many as the limits leave room for."""
        room = PARALLEL_ATTEMPTS - len(in_flight)
        per_host = Counter(_host(delivery.uri) for delivery in in_flight)
        claimed: list[LogoutDelivery] = []
        if room <= 0:
            return claimed
        for delivery in self._storage.deliveries.due(limit=DUE_BATCH):
            host = _host(delivery.uri)
            if per_host[host] >= ATTEMPTS_PER_HOST:
                continue
            if self._storage.deliveries.claim(delivery, _lease()):
                per_host[host] += 1
                claimed.append(delivery)
                if len(claimed) == room:
                    break
        return claimed

    def _post(self, delivery: LogoutDelivery) -> bool:
        return post(
            delivery.uri,
            delivery.logout_token,
            allow_private_addresses=self._allow_private_addresses,
            proxy=self._proxy,
        )

    def _record(self, delivery: LogoutDelivery, delivered: bool) -> bool:
        """After a claimed attempt: delivered, or due again after a back-off (or given up
        after :data:`MAX_ATTEMPTS`)."""
        if delivered:
            self._storage.deliveries.delivered(delivery)
            return True
        attempts = delivery.attempts + 1
        next_at = None
        if attempts < MAX_ATTEMPTS:
            next_at = int(time.time() + RETRY_DELAY * 2 ** (attempts - 1))
        log.info("back-channel logout to %s failed (attempt %d)", delivery.uri, attempts)
        self._storage.deliveries.reschedule(delivery, next_at)
        return False


def _host(uri: str) -> str:
    """Where an attempt goes, for :data:`ATTEMPTS_PER_HOST`: the URI's host and port."""
    return urlsplit(uri).netloc.lower()


def _lease() -> int:
    return int(TIMEOUT) + 30


def _pause(next_at: int) -> float:
    """Seconds to wait for the next attempt: at least :data:`POLL_INTERVAL`, at most
    :data:`PENDING_CHECK_INTERVAL` (deliveries queued by other processes whose sender
    stopped are then found too)."""
    return min(max(next_at - time.time(), POLL_INTERVAL), PENDING_CHECK_INTERVAL)


def stop_all() -> None:
    """Stop every sender thread of this process (a worker's exit hook; tests between
    cases)."""
    for sender in list(_senders):
        sender.stop()
