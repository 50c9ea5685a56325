"""Clients that register themselves: initial access tokens (RFC 7591 section 3),
registration access tokens (RFC 7592 section 3) and the provider's pairwise salt.

Every token is stored as its digest.  Spending an initial access token is one conditional
``UPDATE`` (``uses < uses_allowed``, live, unexpired) in the transaction that creates the
client, so of two registrations racing for a token's last use exactly one gets a client.
A registration access token is replaced the same way: only a request that presents the
current token can rotate it, so an old one never works again and two requests with the
same token cannot both succeed.
"""

from __future__ import annotations

import time

from .. import credentials, records
from ..records import ClientFields
from . import convert, models
from .clients import Audit, _record
from .db import database_proxy, write_transaction

Token = models.InitialAccessToken


class TokenSpent(LookupError):
    """The initial access token is unknown, revoked, expired or used up."""


def _token(row: models.InitialAccessToken) -> records.InitialAccessToken:
    return records.InitialAccessToken(
        id=row.id,
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        uses_allowed=row.uses_allowed,
        uses=row.uses,
        allowed_scopes=frozenset(row.allowed_scopes.split()),
        allowed_grant_types=frozenset(row.allowed_grant_types.split()),
        allowed_redirect_hosts=tuple(
            host for host in row.allowed_redirect_hosts.split("\n") if host
        ),
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _live(now: int) -> object:
    return Token.revoked_at.is_null() & (Token.expires_at > now) & (Token.uses < Token.uses_allowed)


class InitialAccessTokenStore:
    def create(
        self,
        name: str,
        expires_at: int,
        uses_allowed: int,
        audit: Audit,
        *,
        allowed_scopes: tuple[str, ...] = (),
        allowed_grant_types: tuple[str, ...] = (),
        allowed_redirect_hosts: tuple[str, ...] = (),
    ) -> tuple[records.InitialAccessToken, str]:
        """A new token; returns it with its value, stored only as a digest."""
        token = credentials.new_token()
        now = int(time.time())
        with write_transaction(database_proxy):
            row = Token.create(
                token_digest=credentials.digest(token),
                name=name,
                created_by=audit.actor,
                created_at=now,
                expires_at=expires_at,
                uses_allowed=uses_allowed,
                allowed_scopes=" ".join(allowed_scopes),
                allowed_grant_types=" ".join(allowed_grant_types),
                allowed_redirect_hosts="\n".join(allowed_redirect_hosts),
            )
            _record(audit, f"initial-access-token:{row.id}", now)
        return _token(row), token

    def all(self) -> list[records.InitialAccessToken]:
        return [_token(row) for row in Token.select().order_by(Token.id)]

    def get(self, token_id: int) -> records.InitialAccessToken | None:
        row = Token.get_or_none(Token.id == token_id)
        return _token(row) if row else None

    def revoke(self, token_id: int, audit: Audit) -> bool:
        now = int(time.time())
        with write_transaction(database_proxy):
            changed = (
                Token.update(revoked_at=now)
                .where((Token.id == token_id) & Token.revoked_at.is_null())
                .execute()
            )
            if changed:
                _record(audit, f"initial-access-token:{token_id}", now)
        return bool(changed)

    def find(self, token: str) -> records.InitialAccessToken | None:
        """The live token with this value (not revoked, unexpired, not used up)."""
        row = Token.get_or_none(
            (Token.token_digest == credentials.digest(token)) & _live(int(time.time()))
        )
        return _token(row) if row else None

    def register(
        self, token_id: int | None, fields: ClientFields, audit: Audit
    ) -> tuple[records.Client, str | None, str]:
        """Spend one use of the initial access token ``token_id`` (None: open registration)
        and create the client, in one transaction; returns the client, its secret (None
        when public) and its first registration access token.  Raises :class:`TokenSpent`
        (nothing created) when the token was used up, revoked or expired meanwhile."""
        secret = None if fields.is_public else credentials.new_client_secret()
        registration_token = credentials.new_token()
        now = int(time.time())
        with write_transaction(database_proxy):
            if token_id is not None:
                spent = (
                    Token.update(uses=Token.uses + 1, last_used_at=now)
                    .where((Token.id == token_id) & _live(now))
                    .execute()
                )
                if not spent:
                    raise TokenSpent(token_id)
            row = models.Client.create(
                client_id=credentials.new_client_id(),
                secret_digest=credentials.digest(secret) if secret else "",
                created_at=now,
                updated_at=now,
                registration_token_digest=credentials.digest(registration_token),
                initial_access_token_id=token_id,
                **fields.columns(),
            )
            _record(audit, row.client_id, now)
        return convert.client(row), secret, registration_token


class RegistrationTokenStore:
    """RFC 7592 registration access tokens, one per client at most."""

    def client(self, token: str) -> records.Client | None:
        """The client whose current registration access token this is."""
        row = models.Client.get_or_none(
            models.Client.registration_token_digest == credentials.digest(token)
        )
        return convert.client(row) if row else None

    def rotate(self, client_id: str, token: str) -> str | None:
        """Replace the client's registration access token ``token`` with a new one,
        returned; None (nothing changed) when ``token`` is not its current one.  Call it
        inside the transaction of the change it authorises."""
        new = credentials.new_token()
        with write_transaction(database_proxy):
            changed = (
                models.Client.update(registration_token_digest=credentials.digest(new))
                .where(
                    (models.Client.client_id == client_id)
                    & (models.Client.registration_token_digest == credentials.digest(token))
                )
                .execute()
            )
        return new if changed else None


class ProviderSecrets:
    """The provider's own secrets, the same for every host of the database."""

    def __init__(self) -> None:
        self._pairwise_salt: str | None = None

    def pairwise_salt(self) -> str:
        """OIDC Core 8.1: the salt of pairwise subject identifiers (read once)."""
        if self._pairwise_salt is None:
            row = models.ProviderSecret.get(models.ProviderSecret.name == "pairwise_salt")
            self._pairwise_salt = row.value
        return self._pairwise_salt
