"""The administrators' side of storage: the audit log and management API tokens."""

from __future__ import annotations

import json
import time

from .. import credentials, records
from . import models
from .clients import Audit, _record
from .db import database_proxy, write_transaction


def _entry(row: models.AuditEntry) -> records.AuditEntry:
    return records.AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=json.loads(row.details or "{}"),
    )


def _token(row: models.AdminToken) -> records.AdminToken:
    return records.AdminToken(
        id=row.id,
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scopes=tuple(sorted(row.scopes.split())),
    )


class AuditLog:
    def entries(self, limit: int = 100, offset: int = 0) -> list[records.AuditEntry]:
        rows = (
            models.AuditEntry.select()
            .order_by(models.AuditEntry.at.desc(), models.AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_entry(row) for row in rows]


class AdminTokenStore:
    def create(
        self, name: str, audit: Audit, scopes: tuple[str, ...] = ("admin",)
    ) -> tuple[records.AdminToken, str]:
        """A new API token with ``scopes`` (checked by the caller: ``admin.scopes``);
        returns it with its value, stored only as a digest."""
        token = credentials.new_token()
        now = int(time.time())
        with write_transaction(database_proxy):
            row = models.AdminToken.create(
                token_digest=credentials.digest(token),
                name=name,
                created_by=audit.actor,
                created_at=now,
                scopes=" ".join(scopes),
            )
            _record(audit, f"admin-token:{row.id}", now)
        return _token(row), token

    def all(self) -> list[records.AdminToken]:
        return [_token(row) for row in models.AdminToken.select().order_by(models.AdminToken.id)]

    def revoke(self, token_id: int, audit: Audit) -> bool:
        now = int(time.time())
        with write_transaction(database_proxy):
            changed = (
                models.AdminToken.update(revoked_at=now)
                .where((models.AdminToken.id == token_id) & models.AdminToken.revoked_at.is_null())
                .execute()
            )
            if changed:
                _record(audit, f"admin-token:{token_id}", now)
        return bool(changed)

    def authenticate(self, token: str) -> records.AdminToken | None:
        """The live token with this value (and note its use); None otherwise."""
        row = models.AdminToken.get_or_none(
            (models.AdminToken.token_digest == credentials.digest(token))
            & models.AdminToken.revoked_at.is_null()
        )
        if row is None:
            return None
        models.AdminToken.update(last_used_at=int(time.time())).where(
            models.AdminToken.id == row.id
        ).execute()
        return _token(row)
