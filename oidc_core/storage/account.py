"""A user's own view of what they granted: connected apps, and revoking them.

:meth:`AccountStore.revoke` is one transaction that also holds against a refresh-token
rotation or a code redemption running at the same time (SECURITY-CHECKLIST T-64).  On
PostgreSQL (READ COMMITTED) an UPDATE sees the rows committed when the statement started:
a successor token inserted by a rotation that commits while our UPDATE waits on the old
token's row lock is not among them.  So the three UPDATEs (unused codes, access tokens,
refresh tokens) run again until a round changes nothing.  A rival that holds a row we
need makes that round change it (we wait, then update), so the next round starts after
the rival committed and sees its tokens; a round that changes nothing proves no rival is
left: every code and refresh token of the user and client is used or revoked and locked
by us until commit.  Typically that is two rounds.  SQLite serializes writers anyway.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import peewee

from .. import records
from . import convert, models
from .db import database_proxy, write_transaction
from .hotpath import HotPath
from .sql import live_params

MAX_ROUNDS = 20  # of the revoking UPDATEs; more means rivals never stop: fail (rolled back)


class RevocationRace(RuntimeError):
    """Tokens kept appearing while revoking (nothing was revoked: rolled back)."""


class AccountStore:
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def connected_apps(self, user_id: int) -> list[records.ConnectedApp]:
        """Every client with the user's consent (unexpired) or live tokens, by name."""
        now = int(time.time())
        consent = models.Consent
        consents = {
            row.client_id: row
            for row in consent.select().where(
                (consent.user == user_id)
                & (consent.expires_at.is_null() | (consent.expires_at > now))
            )
        }
        live = _live_token_clients(self._hot, user_id, now)
        client_pks = set(consents) | set(live)
        if not client_pks:
            return []
        clients = models.Client.select().where(models.Client.id.in_(client_pks))
        apps = []
        for row in clients:
            granted = consents.get(row.id)
            scopes, first_token, last_used = live.get(row.id, (set(), None, None))
            if granted is not None:
                scopes = set(granted.scopes.split())
            first = granted.first_granted_at or granted.granted_at if granted else first_token
            apps.append(
                records.ConnectedApp(
                    client=convert.client(row),
                    scopes=tuple(sorted(scopes)),
                    first_authorized_at=first,
                    last_used_at=_last_issued(user_id, row.id) or last_used,
                )
            )
        return sorted(apps, key=lambda app: (app.client.name.lower(), app.client.client_id))

    def session_ids(self, user_id: int, client_pk: int, limit: int = 20) -> list[str]:
        """The ``sid`` of the browser sessions the client was issued the user's codes in."""
        code = models.AuthorizationCode
        rows = (
            code.select(code.sid)
            .where((code.user == user_id) & (code.client == client_pk) & code.sid.is_null(False))
            .distinct()
            .limit(limit)
        )
        return [str(row.sid) for row in rows]

    def revoke(
        self,
        user_id: int,
        client_pk: int | None,
        logout_tokens: Sequence[tuple[int, str]] = (),
    ) -> bool:
        """Forget the user's consent to the client and end everything it holds for the
        user: unused codes are marked used, access and refresh tokens revoked; queue the
        back-channel ``logout_tokens`` (client pk, JWT).  ``client_pk`` None: every client,
        consents kept (a password change).  True if there was anything to revoke."""
        now = int(time.time())
        with write_transaction(database_proxy):
            changed = 0
            if client_pk is not None:
                changed += (
                    models.Consent.delete()
                    .where((models.Consent.user == user_id) & (models.Consent.client == client_pk))
                    .execute()
                )
            for _ in range(MAX_ROUNDS):
                ended = _end_codes_and_tokens(user_id, client_pk, now)
                changed += ended
                if ended == 0:
                    break
            else:
                raise RevocationRace(f"tokens kept appearing after {MAX_ROUNDS} rounds")
            for pk, token in logout_tokens:
                models.BackchannelDelivery.create(
                    client=pk, logout_token=token, next_attempt_at=now, created_at=now
                )
        return changed > 0


def _end_codes_and_tokens(user_id: int, client_pk: int | None, now: int) -> int:
    """One round of the revoking UPDATEs, codes first; how many rows they changed."""
    code, access, refresh = models.AuthorizationCode, models.AccessToken, models.RefreshToken

    def of(table: type[models.BaseModel]) -> peewee.Expression:
        condition: peewee.Expression = table.user == user_id  # type: ignore[attr-defined]
        if client_pk is not None:
            condition &= table.client == client_pk  # type: ignore[attr-defined]
        return condition

    return int(
        code.update(used_at=now).where(of(code) & code.used_at.is_null()).execute()
        + access.update(revoked_at=now).where(of(access) & access.revoked_at.is_null()).execute()
        + refresh.update(revoked_at=now).where(of(refresh) & refresh.revoked_at.is_null()).execute()
    )


def _live_token_clients(
    hot: HotPath, user_id: int, now: int
) -> dict[int, tuple[set[str], int, int]]:
    """client pk -> (scopes, first issued, last issued) of the user's live tokens."""
    found: dict[int, tuple[set[str], int, int]] = {}
    for kind, sql in hot.live_tokens_of_user.items():
        for row in hot.fetch_all(sql, live_params(kind, user_id, now)):
            scopes, first, last = found.get(row.client_id, (set(), row.created_at, row.created_at))
            scopes |= set(row.scopes.split())
            found[row.client_id] = (scopes, min(first, row.created_at), max(last, row.created_at))
    return found


def _last_issued(user_id: int, client_pk: int) -> int | None:
    """When the client was last issued an access token for the user (live or not)."""
    access = models.AccessToken
    value = (
        access.select(peewee.fn.MAX(access.created_at))
        .where((access.user == user_id) & (access.client == client_pk))
        .scalar()
    )
    return int(value) if value is not None else None
