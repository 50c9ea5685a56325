"""Every row of every table, to show that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

from oidc_core.storage import Storage
from oidc_core.storage.models import ALL_MODELS

# Bookkeeping that an authenticated API request updates even when it is refused.
TOUCHED = {"oidc_admin_token": {"last_used_at"}}


def database(storage: Storage) -> dict[str, list[tuple[Any, ...]]]:
    """Table name -> its rows (sorted), without the columns in ``TOUCHED``."""
    rows = {}
    for model in ALL_MODELS:
        table = model._meta.table_name
        cursor = storage.database.execute_sql(f"SELECT * FROM {table}")
        names = [column[0] for column in cursor.description]
        kept = [i for i, name in enumerate(names) if name not in TOUCHED.get(table, set())]
        found = [tuple(row[i] for i in kept) for row in cursor.fetchall()]
        rows[table] = sorted(found, key=repr)
    return rows
