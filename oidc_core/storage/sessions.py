"""The provider's own browser sessions and the authorization requests waiting in them."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence

from .. import credentials, records
from . import convert, models
from .db import database_proxy, write_transaction
from .hotpath import HotPath
from .sql import fill

MAX_USER_AGENT = 512  # the column's length
MAX_IP_ADDRESS = 64


def _session(row: models.BrowserSession) -> records.BrowserSession:
    return records.BrowserSession(
        id=row.id,
        csrf_secret=row.csrf_secret,
        user_id=row.user_id,
        auth_time=row.auth_time,
        expires_at=row.expires_at,
        sid=row.sid,
        amr=tuple((row.amr or "").split()),
    )


class SessionStore:
    """Every login and consent page reads its session and pending request: prebuilt SQL
    (:mod:`.hotpath`)."""

    def __init__(self, hot: HotPath) -> None:
        self._hot = hot
        p = hot.param
        self._begin_sign_in = fill(
            "UPDATE {session} SET {session:pending_user_id} = {p}, {session:pending_amr} = {p}, "
            "{session:pending_at} = {p} WHERE {session:id} = {p}",
            p,
        )
        self._pending_sign_in = fill(
            "SELECT {session:pending_user_id}, {session:pending_amr}, {session:pending_at} "
            "FROM {session} WHERE {session:id} = {p} AND {session:pending_user_id} IS NOT NULL "
            "AND {session:pending_at} > {p}",
            p,
        )

    def create(self, ttl: int) -> tuple[str, records.BrowserSession]:
        """A new anonymous session; returns the cookie value (stored only as a digest)."""
        key = credentials.new_token()
        now = int(time.time())
        csrf_secret, sid = secrets.token_hex(32), secrets.token_urlsafe(24)
        row = {
            "key_digest": credentials.digest(key),
            "csrf_secret": csrf_secret,
            "created_at": now,
            "expires_at": now + ttl,
            "sid": sid,
        }
        with database_proxy.atomic():
            session_id = self._hot.insert(self._hot.insert_session, row)
        return key, records.BrowserSession(
            id=session_id,
            csrf_secret=csrf_secret,
            user_id=None,
            auth_time=None,
            expires_at=now + ttl,
            sid=sid,
        )

    def by_key(self, key: str) -> records.BrowserSession | None:
        row = self._hot.fetch_one(
            self._hot.session_by_key, (credentials.digest(key), int(time.time()))
        )
        return _session(row) if row else None  # type: ignore[arg-type]

    def log_in(
        self,
        session_id: int,
        user_id: int,
        ttl: int,
        *,
        user_agent: str,
        ip_address: str,
        amr: Sequence[str] = (),
        auth_time: int | None = None,
    ) -> str:
        """Bind the session to a user under a new key and CSRF secret (fixation defence);
        another user than before gets a new ``sid`` too.  The browser's ``user_agent`` and
        ``ip_address`` are kept for the user's sessions page, ``amr`` (RFC 8176 values) for
        the ID tokens of the session's sign-ins.  ``auth_time``: when the user proved who
        they are, if not now (a host application's sign-in; never later than now)."""
        key = credentials.new_token()
        now = int(time.time())
        self._hot.execute(
            self._hot.session_log_in,
            (
                user_id,
                secrets.token_urlsafe(24),  # the new sid, unless the user stays the same
                credentials.digest(key),
                secrets.token_hex(32),
                user_id,
                now if auth_time is None else min(auth_time, now),
                now + ttl,
                user_agent[:MAX_USER_AGENT],
                ip_address[:MAX_IP_ADDRESS],
                " ".join(amr),
                session_id,
            ),
        )
        return key

    def begin_sign_in(
        self, session_id: int, user_id: int, amr: Sequence[str], started_at: int
    ) -> None:
        """Note a half-done sign-in on the session: ``user_id`` proved ``amr`` so far, a
        second factor is still to come (it replaces any earlier half-done sign-in);
        ``started_at`` is the time the caller's record of it carries."""
        with database_proxy.atomic():
            params = (user_id, " ".join(amr), started_at, session_id)
            self._hot.execute(self._begin_sign_in, params)

    def add_to_sign_in(self, session_id: int, user_id: int, amr: Sequence[str]) -> None:
        """The half-done sign-in of ``user_id`` has now proved ``amr`` (its clock goes on)."""
        table = models.BrowserSession
        with database_proxy.atomic():
            table.update(pending_amr=" ".join(amr)).where(
                (table.id == session_id) & (table.pending_user_id == user_id)
            ).execute()

    def end_half_done(self, user_id: int, session_id: int | None = None) -> int:
        """End the half-done sign-ins of ``user_id`` (the password must be typed again):
        in every browser session (its password was just reset, or its account suspended),
        or in ``session_id`` only (too many wrong codes there).  The sessions themselves,
        and whoever they are signed in as, stay.  How many there were."""
        table = models.BrowserSession
        condition = table.pending_user_id == user_id
        if session_id is not None:
            condition &= table.id == session_id
        with database_proxy.atomic():
            query = table.update(pending_user_id=None, pending_amr=None, pending_at=None)
            return int(query.where(condition).execute())

    def pending_sign_in(self, session_id: int, max_age: int) -> records.PendingSignIn | None:
        """The session's half-done sign-in begun less than ``max_age`` seconds ago."""
        rows = self._hot.rows(self._pending_sign_in, (session_id, int(time.time()) - max_age))
        if not rows:
            return None
        user_id, amr, started_at = rows[0]
        return records.PendingSignIn(user_id, tuple((amr or "").split()), started_at)

    def of_user(self, user_id: int) -> list[records.UserSession]:
        """The user's live sessions, the latest sign-in first."""
        table = models.BrowserSession
        rows = (
            table.select()
            .where((table.user == user_id) & (table.expires_at > int(time.time())))
            .order_by(table.auth_time.desc(), table.id.desc())
        )
        return [
            records.UserSession(
                id=row.id,
                signed_in_at=row.auth_time,
                expires_at=row.expires_at,
                user_agent=row.user_agent,
                ip_address=row.ip_address,
            )
            for row in rows
        ]

    def signed_in(self, user_id: int) -> list[records.BrowserSession]:
        """Every live session of the user (to sign them out)."""
        table = models.BrowserSession
        rows = table.select().where((table.user == user_id) & (table.expires_at > int(time.time())))
        return [_session(row) for row in rows]

    def of_user_by_id(self, user_id: int, session_id: int) -> records.BrowserSession | None:
        """The user's live session ``session_id``; None if it is not theirs or has ended."""
        row = models.BrowserSession.get_or_none(
            (models.BrowserSession.id == session_id)
            & (models.BrowserSession.user == user_id)
            & (models.BrowserSession.expires_at > int(time.time()))
        )
        return _session(row) if row else None

    def end(self, session_id: int, logout_tokens: Sequence[tuple[int, str]] = ()) -> None:
        """Delete a session (sign-out) with the authorization requests waiting in it; in
        the same transaction, queue ``logout_tokens`` (client pk, JWT) for delivery."""
        now = int(time.time())
        with write_transaction(database_proxy):
            for client_pk, token in logout_tokens:
                models.BackchannelDelivery.create(
                    client=client_pk, logout_token=token, next_attempt_at=now, created_at=now
                )
            models.PendingAuthorization.delete().where(
                models.PendingAuthorization.session == session_id
            ).execute()
            models.BrowserSession.delete().where(models.BrowserSession.id == session_id).execute()

    def signed_in_clients(self, sid: str) -> list[records.Client]:
        """The clients with a ``backchannel_logout_uri`` that were issued a code in the
        browser session ``sid``."""
        codes = models.AuthorizationCode.select(models.AuthorizationCode.client).where(
            models.AuthorizationCode.sid == sid
        )
        rows = models.Client.select().where(
            (models.Client.id.in_(codes)) & (models.Client.backchannel_logout_uri != "")
        )
        return [convert.client(row) for row in rows]

    def create_pending(
        self, session_id: int, client_id: str, params: list[tuple[str, str]], ttl: int
    ) -> str:
        handle = secrets.token_urlsafe(24)
        now = int(time.time())
        row = {
            "handle": handle,
            "session_id": session_id,
            "client_id": client_id,
            "params": json.dumps(params),
            "created_at": now,
            "expires_at": now + ttl,
        }
        self._hot.write(self._hot.insert_pending, row)
        return handle

    def pending(self, handle: str, session_id: int) -> records.PendingAuthorization | None:
        """The live pending request ``handle`` if it belongs to this browser session."""
        row = self._hot.fetch_one(
            self._hot.pending_by_handle, (handle, session_id, int(time.time()))
        )
        if row is None:
            return None
        return records.PendingAuthorization(
            id=row.id,
            handle=row.handle,
            session_id=row.session_id,
            client_id=row.client_id,
            params=[(str(k), str(v)) for k, v in json.loads(row.params)],
            expires_at=row.expires_at,
            completed=row.completed_at is not None,
        )

    def finish_pending(self, pending_id: int) -> bool:
        """Close a pending request without a code (denied); False if already finished."""
        with write_transaction(database_proxy):
            updated = (
                models.PendingAuthorization.update(completed_at=int(time.time()))
                .where(
                    (models.PendingAuthorization.id == pending_id)
                    & (models.PendingAuthorization.completed_at.is_null())
                )
                .execute()
            )
        return bool(updated == 1)
