"""Values a page shows once, kept briefly for one browser session (POST-redirect-GET).

The value is stored as the caller gives it (the console encrypts it first); reading it
deletes it, and of two requests reading at once only the one whose DELETE removed the row
gets it.
"""

from __future__ import annotations

import time

from . import models
from .db import database_proxy, write_transaction


class OneTimeValueStore:
    def put(self, session_id: int, name: str, value: str, ttl: int) -> None:
        """Keep ``value`` under ``name`` for ``ttl`` seconds, replacing one kept before."""
        now = int(time.time())
        row = models.OneTimeValue
        with write_transaction(database_proxy):
            row.delete().where((row.session == session_id) & (row.name == name)).execute()
            row.create(
                session=session_id, name=name, value=value, created_at=now, expires_at=now + ttl
            )

    def peek(self, session_id: int, name: str) -> str | None:
        """The value, left in place; None once read, expired or never kept."""
        row = models.OneTimeValue
        found = row.get_or_none(
            (row.session == session_id) & (row.name == name) & (row.expires_at > time.time())
        )
        return None if found is None else str(found.value)

    def take(self, session_id: int, name: str) -> str | None:
        """The value, deleted as it is read; None once read, expired or never kept."""
        row = models.OneTimeValue
        found = row.get_or_none(
            (row.session == session_id) & (row.name == name) & (row.expires_at > time.time())
        )
        if found is None:
            return None
        with write_transaction(database_proxy):
            deleted = row.delete().where(row.id == found.id).execute()
        return str(found.value) if deleted else None
