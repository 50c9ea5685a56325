"""What users grant clients: consents, authorization codes and access tokens.

The two write paths that must never half-happen are single transactions here:
:meth:`GrantStore.issue_code` (finish the pending request, store the code, remember the
consent) and :meth:`GrantStore.redeem_code` (consume the code with one conditional UPDATE
and insert the access token).  Two concurrent redemptions of one code cannot both win.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from .. import credentials, records
from . import convert, models
from .db import database_proxy, write_transaction
from .hotpath import HotPath


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


class GrantStore:
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def consented_scopes(self, user_id: int, client_pk: int) -> frozenset[str]:
        row = models.Consent.get_or_none(
            (models.Consent.user == user_id) & (models.Consent.client == client_pk)
        )
        return frozenset(row.scopes.split()) if row else frozenset()

    def issue_code(self, pending_id: int | None, new: NewCode, remember_scopes: bool) -> bool:
        """Store a code (and the consent) once per pending request; False if done already."""
        now = int(time.time())
        with write_transaction(database_proxy):
            if pending_id is not None:
                finished = (
                    models.PendingAuthorization.update(completed_at=now)
                    .where(
                        (models.PendingAuthorization.id == pending_id)
                        & (models.PendingAuthorization.completed_at.is_null())
                    )
                    .execute()
                )
                if finished != 1:
                    return False
            models.AuthorizationCode.create(
                code_digest=credentials.digest(new.code),
                client=new.client_pk,
                user=new.user_id,
                redirect_uri=new.redirect_uri,
                scopes=" ".join(new.scopes),
                nonce=new.nonce,
                claims=json.dumps(new.claims) if new.claims else None,
                code_challenge=new.code_challenge,
                code_challenge_method=new.code_challenge_method,
                auth_time=new.auth_time,
                created_at=now,
                expires_at=now + new.ttl,
            )
            if remember_scopes:
                self._remember(new.user_id, new.client_pk, new.scopes, now)
        return True

    def _remember(self, user_id: int, client_pk: int, scopes: tuple[str, ...], now: int) -> None:
        existing = self.consented_scopes(user_id, client_pk)
        merged = " ".join(sorted(existing | set(scopes)))
        updated = (
            models.Consent.update(scopes=merged, granted_at=now)
            .where((models.Consent.user == user_id) & (models.Consent.client == client_pk))
            .execute()
        )
        if not updated:
            models.Consent.create(user=user_id, client=client_pk, scopes=merged, granted_at=now)

    def code(self, code: str) -> records.CodeGrant | None:
        """The code as stored (used or not, expired or not); None if it never existed."""
        row = self._hot.fetch_one(self._hot.code_with_user, (credentials.digest(code),))
        if row is None:
            return None
        row.user = self._hot.user_of(row)
        return convert.code(row)  # type: ignore[arg-type]

    def redeem_code(
        self, code: records.CodeGrant, access_token: str, scopes: tuple[str, ...], ttl: int
    ) -> bool:
        """Consume the code and store its access token atomically; False if already used."""
        now = int(time.time())
        hot = self._hot
        with write_transaction(database_proxy):
            if hot.execute(hot.consume_code, (now, code.id)) != 1:
                return False
            hot.execute(
                hot.insert_access_token,
                (
                    credentials.digest(access_token),
                    code.client_pk,
                    code.user.id,
                    code.id,
                    " ".join(scopes),
                    now,
                    now + ttl,
                ),
            )
        return True

    def revoke_code_tokens(self, code_id: int) -> int:
        """Revoke every token issued from a code (after a replay, RFC 6749 section 4.1.2)."""
        with write_transaction(database_proxy):
            return int(
                models.AccessToken.update(revoked_at=int(time.time()))
                .where(
                    (models.AccessToken.code == code_id) & (models.AccessToken.revoked_at.is_null())
                )
                .execute()
            )

    def access_token(self, token: str) -> records.AccessTokenGrant | None:
        """A live (unexpired, unrevoked) access token with its user; None otherwise."""
        row = self._hot.fetch_one(
            self._hot.live_access_token, (credentials.digest(token), int(time.time()))
        )
        if row is None:
            return None
        return records.AccessTokenGrant(
            id=row.id,
            client_id=row.client_id,
            user=convert.user(self._hot.user_of(row)),  # type: ignore[arg-type]
            scopes=tuple(row.scopes.split()),
            expires_at=row.expires_at,
        )


__all__ = ["GrantStore", "NewCode"]
