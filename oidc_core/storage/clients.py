"""Relying parties (clients), and the audit entry of every administrative change.

Each change and its audit entry are one transaction: there is never a change without its
record, nor a record of a change that did not happen.  Deleting a client deletes its codes,
tokens and consents with it (foreign keys ``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import peewee

from .. import credentials, records
from ..records import ClientFields
from . import convert, models
from .db import database_proxy, write_transaction
from .hotpath import HotPath

# Plain text: the consent page shows it as it is (before 0.5.0 it held Markdown backticks).
DEMO_DESCRIPTION = "Created by oidc-core init --demo"
_MARKED_UP_DEMO_DESCRIPTION = "Created by `oidc-core init --demo`"

SORTABLE: dict[str, Any] = {
    "id": models.Client.id,
    "name": models.Client.name,
    "created_at": models.Client.created_at,
    "updated_at": models.Client.updated_at,
    "client_id": models.Client.client_id,
}


class ClientIdTaken(ValueError):
    """Another client already has this client_id."""


@dataclass(frozen=True)
class Audit:
    """Who does what: written with the change, in its transaction. Never a secret."""

    actor: str
    action: str
    details: dict[str, Any] | None = None


def _record(audit: Audit | None, target: str, now: int) -> None:
    if audit is not None:
        models.AuditEntry.create(
            at=now,
            actor=audit.actor,
            action=audit.action,
            target=target,
            details=json.dumps(audit.details or {}, sort_keys=True),
        )


class ClientStore:
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def create(
        self, fields: ClientFields, audit: Audit | None = None
    ) -> tuple[records.Client, str | None]:
        """Create a client; returns it with its secret (None for a public client)."""
        secret = None if fields.is_public else credentials.new_client_secret()
        now = int(time.time())
        with write_transaction(database_proxy):
            row = models.Client.create(
                client_id=credentials.new_client_id(),
                secret_digest=credentials.digest(secret) if secret else "",
                created_at=now,
                updated_at=now,
                **fields.columns(),
            )
            _record(audit, row.client_id, now)
        return convert.client(row), secret

    def create_imported(
        self, client_id: str, secret: str | None, fields: ClientFields, audit: Audit | None = None
    ) -> records.Client:
        """Create a client under an id and secret it already has elsewhere (a move from
        another provider); the secret is stored only as its digest, like every secret."""
        now = int(time.time())
        try:
            with write_transaction(database_proxy):
                row = models.Client.create(
                    client_id=client_id,
                    secret_digest=credentials.digest(secret) if secret else "",
                    created_at=now,
                    updated_at=now,
                    **fields.columns(),
                )
                _record(audit, row.client_id, now)
        except peewee.IntegrityError:  # created since it was checked (the only unique column)
            raise ClientIdTaken(client_id) from None
        return convert.client(row)

    def by_client_id(self, client_id: str) -> records.Client | None:
        row = self._hot.fetch_one(self._hot.client_by_client_id, (client_id,))
        return convert.client(row) if row else None  # type: ignore[arg-type]

    def by_id(self, row_id: int) -> records.Client | None:
        """The client with this primary key (the reference billing system's
        ``credentialId``)."""
        row = models.Client.get_or_none(models.Client.id == row_id)
        return convert.client(row) if row else None

    def public_redirect_uris(self, containing: str) -> list[str]:
        """The redirect URIs of public clients that have one containing ``containing``
        (case-insensitive; the caller compares exactly)."""
        client = models.Client
        rows = client.select(client.redirect_uris).where(
            client.is_public & client.redirect_uris.contains(containing)
        )
        return [uri for row in rows for uri in row.redirect_uris.split("\n") if uri]

    def update(
        self, client_id: str, fields: ClientFields, audit: Audit | None = None
    ) -> records.Client | None:
        """Replace every field; None if no such client. A public client loses its secret."""
        now = int(time.time())
        values = fields.columns()
        if fields.is_public:
            values.update(
                secret_digest="", previous_secret_digest=None, previous_secret_expires_at=None
            )
        with write_transaction(database_proxy):
            changed = (
                models.Client.update(updated_at=now, **values)
                .where(models.Client.client_id == client_id)
                .execute()
            )
            if not changed:
                return None
            _record(audit, client_id, now)
        return self.by_client_id(client_id)

    def reset_secret(
        self, client_id: str, grace_seconds: int = 0, audit: Audit | None = None
    ) -> str | None:
        """A new secret. The previous one stops working when this commits, or after
        ``grace_seconds``.  None if there is no such confidential client."""
        secret = credentials.new_client_secret()
        now = int(time.time())
        keep_previous = grace_seconds > 0
        confidential = (models.Client.client_id == client_id) & (
            models.Client.is_public == False  # noqa: E712
        )
        with write_transaction(database_proxy):
            # Two statements: MySQL/MariaDB assign left to right, so in one UPDATE the
            # previous secret would read the new one (standard SQL reads the old row).
            changed = (
                models.Client.update(
                    previous_secret_digest=(models.Client.secret_digest if keep_previous else None),
                    previous_secret_expires_at=now + grace_seconds if keep_previous else None,
                )
                .where(confidential)
                .execute()
            )
            if not changed:
                return None
            models.Client.update(secret_digest=credentials.digest(secret), updated_at=now).where(
                confidential
            ).execute()
            _record(audit, client_id, now)
        return secret

    def delete(self, client_id: str, audit: Audit | None = None) -> bool:
        """Delete the client with its codes, tokens and consents."""
        now = int(time.time())
        with write_transaction(database_proxy):
            row = models.Client.get_or_none(models.Client.client_id == client_id)
            if row is None:
                return False
            models.AccessToken.delete().where(models.AccessToken.client == row.id).execute()
            models.AuthorizationCode.delete().where(
                models.AuthorizationCode.client == row.id
            ).execute()
            models.Consent.delete().where(models.Consent.client == row.id).execute()
            row.delete_instance()
            _record(audit, client_id, now)
        return True

    def names(self, client_ids: Collection[str]) -> dict[str, str]:
        """client_id -> name of those of ``client_ids`` that exist."""
        if not client_ids:
            return {}
        client = models.Client
        rows = client.select(client.client_id, client.name).where(
            client.client_id.in_(list(client_ids))
        )
        return {row.client_id: row.name for row in rows}

    def last_used(self, client_id: str) -> int | None:
        """When the client was last issued an access token, as :meth:`search` reports it."""
        token = models.AccessToken
        last = (
            token.select(peewee.fn.MAX(token.created_at))
            .join(models.Client)
            .where(models.Client.client_id == client_id)
            .scalar()
        )
        return None if last is None else int(last)

    def search(
        self,
        text: str = "",
        sort: str = "name",
        descending: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[records.Client, int | None]]:
        """Clients whose name or client_id contains ``text``, with when each was last used."""
        last_used = models.AccessToken.select(peewee.fn.MAX(models.AccessToken.created_at)).where(
            models.AccessToken.client == models.Client.id
        )
        order = SORTABLE[sort].desc() if descending else SORTABLE[sort].asc()
        query = models.Client.select(models.Client, last_used.alias("last_used_at"))
        if text:
            query = query.where(
                peewee.fn.LOWER(models.Client.name).contains(text.lower())
                | models.Client.client_id.contains(text)
            )
        rows = query.order_by(order, models.Client.id).limit(limit).offset(offset)
        return [(convert.client(row), getattr(row, "last_used_at", None)) for row in rows]

    def credentials(
        self, grant_type: str = "", sort: str = "id", descending: bool = False, limit: int = 100
    ) -> tuple[int, list[records.Client]]:
        """How many clients have the reference billing system's ``grant_type`` (every
        client when ""; ``authorization_code`` also counts a client without one), and the
        first ``limit`` of them."""
        client = models.Client
        query = client.select()
        if grant_type == "authorization_code":
            query = query.where(
                client.credential_grant_type.is_null()
                | (client.credential_grant_type == grant_type)
            )
        elif grant_type:
            query = query.where(client.credential_grant_type == grant_type)
        order = SORTABLE[sort].desc() if descending else SORTABLE[sort].asc()
        rows = query.order_by(order, client.id).limit(limit)
        return query.count(), [convert.client(row) for row in rows]

    def create_or_reset_demo(
        self, name: str, redirect_uris: list[str]
    ) -> tuple[records.Client, str]:
        """The demo client by name, created or given a fresh secret (and the description
        of this version: the consent page shows it)."""
        row = models.Client.get_or_none(models.Client.name == name)
        if row is None:
            client, secret = self.create(
                ClientFields(
                    name=name,
                    redirect_uris=tuple(redirect_uris),
                    description=DEMO_DESCRIPTION,
                    client_uri="http://127.0.0.1:9000/",
                )
            )
            if secret is None:
                raise LookupError(name)
            return client, secret
        if row.description == _MARKED_UP_DEMO_DESCRIPTION:
            models.Client.update(description=DEMO_DESCRIPTION).where(
                models.Client.id == row.id
            ).execute()
        secret = self.reset_secret(row.client_id)
        if secret is None:
            raise LookupError(name)
        return convert.client(models.Client.get_by_id(row.id)), secret
