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
from types import SimpleNamespace
from typing import Any

import peewee

from .. import credentials, records
from . import convert, models
from .db import database_proxy, write_transaction
from .hotpath import HotPath
from .sql import live_params


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
    amr: tuple[str, ...] = ()  # how the user signed in (RFC 8176); () stores none
    acr: str | None = None


def _code_row(new: NewCode, now: int) -> dict[str, Any]:
    """The row of :attr:`.HotPath.insert_code`, by column."""
    return {
        "code_digest": credentials.digest(new.code),
        "client_id": new.client_pk,
        "user_id": new.user_id,
        "redirect_uri": new.redirect_uri,
        "scopes": " ".join(new.scopes),
        "nonce": new.nonce,
        "claims": json.dumps(new.claims) if new.claims else None,
        "code_challenge": new.code_challenge,
        "code_challenge_method": new.code_challenge_method,
        "auth_time": new.auth_time,
        "created_at": now,
        "expires_at": now + new.ttl,
        "sid": new.sid,
        "amr": " ".join(new.amr) or None,
        "acr": new.acr,
    }


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
            self._hot.write(self._hot.insert_code, _code_row(new, now))
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
        owner = {"client_id": code.client_pk, "user_id": code.user.id, "grant_id": code.id}
        access = _access_row(access_token, {**owner, "code_id": code.id}, scopes, now, ttl)
        successor = None
        if refresh is not None:
            absolute_expiry = now + refresh.absolute_ttl
            successor = _refresh_row(refresh, owner, scopes, code, now, absolute_expiry)
        with write_transaction(database_proxy):
            return self._hot.redeem("code", code.id, now, access, successor)

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
        return None if row is None else convert.refresh_token(row, self._hot.user_of(row))

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
        owner = {"client_id": old.client_pk, "user_id": old.user.id, "grant_id": old.grant_id}
        access = _access_row(access_token, owner, scopes, now, ttl)
        successor = _refresh_row(refresh, owner, old.scopes, old, now, old.absolute_expires_at)
        with write_transaction(database_proxy):
            return self._hot.redeem("refresh", old.id, now, access, successor)

    def issue_client_token(
        self, client_pk: int, access_token: str, scopes: tuple[str, ...], ttl: int
    ) -> None:
        """An access token for the client itself (client credentials grant): no user."""
        access = _access_row(access_token, {"client_id": client_pk}, scopes, int(time.time()), ttl)
        with write_transaction(database_proxy):
            self._hot.write(self._hot.insert_access_token, access)

    def token_info(self, token: str, hint: str | None) -> records.TokenInfo | None:
        """A live access or refresh token (the hinted kind looked up first); None otherwise."""
        kinds = ("refresh_token", "access_token")
        if hint != "refresh_token":
            kinds = kinds[::-1]
        digest, now = credentials.digest(token), int(time.time())
        for kind in kinds:
            row = self._live(kind.partition("_")[0], digest, now)
            if row is not None:
                return convert.token_info(kind, row)
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
        credentials token); None otherwise.  The one call that decides whether a bearer
        token is live (UserInfo, CORS, the bearer check all ask it)."""
        row = self._live("access", credentials.digest(token), int(time.time()))
        if row is None:
            return None
        user = self._hot.user_of(row)
        return records.AccessTokenGrant(
            id=row.id,
            client_id=row.client_key,
            user=None if user.id is None else convert.user(user),  # type: ignore[arg-type]
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
            subject_type=row.client_subject_type,
            sector_identifier=row.client_sector_identifier,
        )

    def _live(self, kind: str, digest: str, now: int) -> SimpleNamespace | None:
        """The live ``access`` or ``refresh`` token with this digest, with its client's
        ``client_key`` and its user's ``u_``-prefixed columns (none: client credentials):
        every question whether a token is live comes here (:func:`.sql.live_condition`)."""
        return self._hot.fetch_one(self._hot.live_token[kind], live_params(kind, digest, now))


__all__ = ["GrantStore", "NewCode", "NewRefresh"]


def _access_row(
    token: str, owner: dict[str, Any], scopes: tuple[str, ...], now: int, ttl: int
) -> dict[str, Any]:
    """An access token's row: ``owner`` names its client, user, grant and code (a
    client credentials token has only a client)."""
    return {
        **owner,
        "token_digest": credentials.digest(token),
        "scopes": " ".join(scopes),
        "created_at": now,
        "expires_at": now + ttl,
    }


def _refresh_row(
    new: NewRefresh,
    owner: dict[str, Any],
    scopes: tuple[str, ...],
    sign_in: records.CodeGrant | records.RefreshTokenGrant,
    now: int,
    absolute_expiry: int,
) -> dict[str, Any]:
    """A refresh token's row: it expires when idle for too long, and never after the
    grant's absolute expiry; it keeps the sign-in (``auth_time``, ``amr``, ``acr``) of
    the code or refresh token it descends from."""
    return {
        **owner,
        "token_digest": credentials.digest(new.token),
        "scopes": " ".join(scopes),
        "auth_time": sign_in.auth_time,
        "amr": None if sign_in.amr is None else " ".join(sign_in.amr),
        "acr": sign_in.acr,
        "created_at": now,
        "expires_at": min(now + new.idle_ttl, absolute_expiry),
        "absolute_expires_at": absolute_expiry,
    }
