"""What users grant clients: consents, authorization codes, access and refresh tokens.

The write paths that must never half-happen are single transactions here:
:meth:`GrantStore.issue_code` (finish the pending request, store the code, remember the
consent), :meth:`GrantStore.redeem_code` (consume the code with one conditional UPDATE
and insert its tokens) and :meth:`GrantStore.rotate` (consume a refresh token the same way
and insert its successors).  Two concurrent redemptions of one code or one refresh token
cannot both win.

A *grant* (token family) is everything issued from one authorization code: its access
tokens and its chain of refresh tokens share ``grant_id`` (the code's id), so a replayed
code or refresh token revokes the whole family in one statement per table.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import peewee

from .. import credentials, records
from . import convert, models
from .db import database_proxy, write_transaction
from .hotpath import HotPath


@dataclass(frozen=True)
class NewRefresh:
    """A refresh token to store with its access token; lifetimes in seconds."""

    token: str
    idle_ttl: int
    absolute_ttl: int


@dataclass(frozen=True)
class NewCode:
    code: str
    client_pk: int
    user_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    nonce: str | None
    claims: dict[str, Any] | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    ttl: int
    sid: str | None = None


def _code_values(new: NewCode, now: int) -> tuple[Any, ...]:
    """The values of :attr:`.HotPath.insert_code`, in its column order."""
    return (
        credentials.digest(new.code),
        new.client_pk,
        new.user_id,
        new.redirect_uri,
        " ".join(new.scopes),
        new.nonce,
        json.dumps(new.claims) if new.claims else None,
        new.code_challenge,
        new.code_challenge_method,
        new.auth_time,
        now,
        now + new.ttl,
        new.sid,
    )


class GrantStore:
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def consented_scopes(
        self, user_id: int, client_pk: int, now: int | None = None
    ) -> frozenset[str]:
        """The scopes the user's consent to the client covers; none once it has expired."""
        moment = int(time.time()) if now is None else now
        row = self._hot.fetch_one(self._hot.consented_scopes, (user_id, client_pk, moment))
        return frozenset(row.scopes.split()) if row else frozenset()

    def issue_code(
        self, pending_id: int | None, new: NewCode, remember_scopes: bool, consent_ttl: int = 0
    ) -> bool:
        """Store a code (and the consent, for ``consent_ttl`` seconds, 0: no end) once per
        pending request; False if done already."""
        now = int(time.time())
        with write_transaction(database_proxy):
            if not self._finish_pending(pending_id, now):
                return False
            self._hot.execute(self._hot.insert_code, _code_values(new, now))
            if remember_scopes:
                self._remember(new.user_id, new.client_pk, new.scopes, now, consent_ttl)
        return True

    def _finish_pending(self, pending_id: int | None, now: int) -> bool:
        """Close the pending request a code answers (None: there is none); False if it
        was closed already (its code was issued, or it was denied)."""
        if pending_id is None:
            return True
        return self._hot.execute(self._hot.finish_pending, (now, pending_id)) == 1

    def _remember(
        self, user_id: int, client_pk: int, scopes: tuple[str, ...], now: int, ttl: int
    ) -> None:
        """Add ``scopes`` to the user's live consent for the client (a row per user and
        client; an expired consent's scopes are dropped).  ``first_granted_at`` stays as the
        first grant set it; ``expires_at`` moves to ``now + ttl`` (null: ``ttl`` is 0).

        The row is locked by an UPDATE before its scopes are read, so two consents at once
        with different scopes both end up in it (on PostgreSQL the second waits for the
        first to commit, then reads its scopes; SQLite's ``BEGIN IMMEDIATE`` serialises
        them anyway).  Two first consents at once both find no row; the second insert then
        violates the unique index: it is undone (a savepoint) and the row is updated.
        """
        mine = (models.Consent.user == user_id) & (models.Consent.client == client_pk)
        expires_at = now + ttl if ttl else None
        for _ in range(2):
            if models.Consent.update(granted_at=now).where(mine).execute():
                live = self.consented_scopes(user_id, client_pk, now)
                merged = " ".join(sorted(live | set(scopes)))
                models.Consent.update(scopes=merged, expires_at=expires_at).where(mine).execute()
                return
            try:
                with database_proxy.atomic():
                    models.Consent.create(
                        user=user_id,
                        client=client_pk,
                        scopes=" ".join(sorted(set(scopes))),
                        granted_at=now,
                        first_granted_at=now,
                        expires_at=expires_at,
                    )
                return
            except peewee.IntegrityError:
                continue
        raise RuntimeError("the consent row could not be written")

    def code(self, code: str) -> records.CodeGrant | None:
        """The code as stored (used or not, expired or not); None if it never existed."""
        row = self._hot.fetch_one(self._hot.code_with_user, (credentials.digest(code),))
        if row is None:
            return None
        row.user = self._hot.user_of(row)
        return convert.code(row)  # type: ignore[arg-type]

    def redeem_code(
        self,
        code: records.CodeGrant,
        access_token: str,
        scopes: tuple[str, ...],
        ttl: int,
        refresh: NewRefresh | None = None,
    ) -> bool:
        """Consume the code and store its tokens atomically; False if already used."""
        now = int(time.time())
        access = _access_row(
            access_token, code.client_pk, code.user.id, code.id, code.id, scopes, now, ttl
        )
        refresh_row = None
        if refresh is not None:
            refresh_row = _refresh_row(
                refresh.token,
                code.client_pk,
                code.user.id,
                code.id,
                scopes,
                code.auth_time,
                now,
                now + refresh.idle_ttl,
                now + refresh.absolute_ttl,
            )
        hot = self._hot
        if hot.redeems_in_one_statement:
            with write_transaction(database_proxy):
                return hot.redeem("code", code.id, now, access, refresh_row)
        with write_transaction(database_proxy):
            if hot.execute(hot.consume_code, (now, code.id)) != 1:
                return False
            hot.execute(hot.insert_access_token, access)
            if refresh_row is not None:
                hot.execute(hot.insert_refresh_token, refresh_row)
        return True

    def revoke_code_tokens(self, code_id: int) -> int:
        """Revoke every token issued from a code (after a replay, RFC 6749 section 4.1.2)."""
        return self.revoke_grant(code_id)

    def revoke_grant(self, grant_id: int) -> int:
        """Revoke a whole token family (access and refresh tokens); how many tokens died."""
        now = int(time.time())
        hot = self._hot
        with write_transaction(database_proxy):
            return hot.execute(hot.revoke_family_access, (now, grant_id, grant_id)) + hot.execute(
                hot.revoke_family_refresh, (now, grant_id)
            )

    def refresh_token(self, token: str) -> records.RefreshTokenGrant | None:
        """The refresh token as stored (used, revoked or expired too); None if unknown."""
        row = self._hot.fetch_one(self._hot.refresh_with_user, (credentials.digest(token),))
        if row is None:
            return None
        return records.RefreshTokenGrant(
            id=row.id,
            grant_id=row.grant_id,
            client_pk=row.client_id,
            user=convert.user(self._hot.user_of(row)),  # type: ignore[arg-type]
            scopes=tuple(row.scopes.split()),
            auth_time=row.auth_time,
            created_at=row.created_at,
            expires_at=row.expires_at,
            absolute_expires_at=row.absolute_expires_at,
            used=row.used_at is not None,
            revoked=row.revoked_at is not None,
        )

    def rotate(
        self,
        old: records.RefreshTokenGrant,
        access_token: str,
        scopes: tuple[str, ...],
        ttl: int,
        refresh: NewRefresh,
    ) -> bool:
        """Consume ``old`` and store its successors atomically; False if it was used already.

        The new refresh token keeps the grant's scopes (RFC 6749 section 6: a narrowed
        request narrows only the access token) and never outlives the grant's absolute
        expiry."""
        now = int(time.time())
        access = _access_row(
            access_token, old.client_pk, old.user.id, None, old.grant_id, scopes, now, ttl
        )
        successor = _refresh_row(
            refresh.token,
            old.client_pk,
            old.user.id,
            old.grant_id,
            old.scopes,
            old.auth_time,
            now,
            now + refresh.idle_ttl,
            old.absolute_expires_at,
        )
        hot = self._hot
        if hot.redeems_in_one_statement:
            with write_transaction(database_proxy):
                return hot.redeem("refresh", old.id, now, access, successor)
        with write_transaction(database_proxy):
            if hot.execute(hot.consume_refresh, (now, old.id)) != 1:
                return False
            hot.execute(hot.insert_access_token, access)
            hot.execute(hot.insert_refresh_token, successor)
        return True

    def issue_client_token(
        self, client_pk: int, access_token: str, scopes: tuple[str, ...], ttl: int
    ) -> None:
        """An access token for the client itself (client credentials grant): no user."""
        access = _access_row(
            access_token, client_pk, None, None, None, scopes, int(time.time()), ttl
        )
        with write_transaction(database_proxy):
            self._hot.execute(self._hot.insert_access_token, access)

    def token_info(self, token: str, hint: str | None) -> records.TokenInfo | None:
        """A live access or refresh token (the hinted kind looked up first); None otherwise."""
        kinds = ("refresh_token", "access_token")
        if hint != "refresh_token":
            kinds = kinds[::-1]
        digest = credentials.digest(token)
        now = int(time.time())
        for kind in kinds:
            info = (
                _live_access(digest, now) if kind == "access_token" else _live_refresh(digest, now)
            )
            if info is not None:
                return info
        return None

    def revoke(self, token: str, client_pk: int, hint: str | None) -> str | None:
        """RFC 7009: revoke a token of this client (a refresh token: its whole grant).

        Returns the kind revoked, or None when the token is unknown, dead or another
        client's (nothing changes then)."""
        info = self.token_info(token, hint)
        if info is None or info.client_pk != client_pk:
            return None
        digest = credentials.digest(token)
        if info.kind == "refresh_token":
            row = models.RefreshToken.get(models.RefreshToken.token_digest == digest)
            self.revoke_grant(row.grant_id)
        else:
            with write_transaction(database_proxy):
                models.AccessToken.update(revoked_at=int(time.time())).where(
                    (models.AccessToken.token_digest == digest)
                    & models.AccessToken.revoked_at.is_null()
                ).execute()
        return info.kind

    def access_token(self, token: str) -> records.AccessTokenGrant | None:
        """A live (unexpired, unrevoked) access token with its user (None for a client
        credentials token); None otherwise."""
        row = self._hot.fetch_one(
            self._hot.live_access_token, (credentials.digest(token), int(time.time()))
        )
        if row is None:
            return None
        user = self._hot.user_of(row)
        return records.AccessTokenGrant(
            id=row.id,
            client_id=row.client_id,
            user=None if user.id is None else convert.user(user),  # type: ignore[arg-type]
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
        )


def _live_access(digest: str, now: int) -> records.TokenInfo | None:
    token = models.AccessToken
    # LEFT JOIN: a client credentials token has no user
    return _live(token, "access_token", token.token_digest == digest, now, peewee.JOIN.LEFT_OUTER)


def _live_refresh(digest: str, now: int) -> records.TokenInfo | None:
    token = models.RefreshToken
    live = (
        (token.token_digest == digest) & token.used_at.is_null() & (token.absolute_expires_at > now)
    )
    return _live(token, "refresh_token", live, now, peewee.JOIN.INNER)


def _live(
    token: type[models.AccessToken] | type[models.RefreshToken],
    kind: str,
    condition: peewee.Expression,
    now: int,
    user_join: str,
) -> records.TokenInfo | None:
    """The unrevoked, unexpired token matching ``condition``, with its client and subject."""
    row = (
        token.select(token, models.Client.client_id.alias("client_key"), models.User.subject)
        .join(models.Client)
        .switch(token)
        .join(models.User, user_join)
        .where(condition & token.revoked_at.is_null() & (token.expires_at > now))
        .objects()
        .first()
    )
    if row is None:
        return None
    return records.TokenInfo(
        kind=kind,
        client_pk=row.client_id,
        client_id=row.client_key,
        subject=row.subject,
        scopes=tuple(row.scopes.split()),
        issued_at=row.created_at,
        expires_at=row.expires_at,
    )


__all__ = ["GrantStore", "NewCode", "NewRefresh"]


def _access_row(
    token: str,
    client_pk: int,
    user_id: int | None,
    code_id: int | None,
    grant_id: int | None,
    scopes: tuple[str, ...],
    now: int,
    ttl: int,
) -> tuple[Any, ...]:
    """An access token's row, in ``hotpath.ACCESS_COLUMNS`` order."""
    digest = credentials.digest(token)
    return (digest, client_pk, user_id, code_id, grant_id, " ".join(scopes), now, now + ttl)


def _refresh_row(
    token: str,
    client_pk: int,
    user_id: int,
    grant_id: int,
    scopes: tuple[str, ...],
    auth_time: int,
    now: int,
    idle_expiry: int,
    absolute_expiry: int,
) -> tuple[Any, ...]:
    """A refresh token's row, in ``hotpath.REFRESH_COLUMNS`` order: it expires when idle
    for too long, and never after the grant's absolute expiry."""
    return (
        credentials.digest(token),
        client_pk,
        user_id,
        grant_id,
        " ".join(scopes),
        auth_time,
        now,
        min(idle_expiry, absolute_expiry),
        absolute_expiry,
    )
