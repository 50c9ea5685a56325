"""Numbered schema migrations.  ``upgrade`` brings any database to the newest version.

Migration 1 is the first released schema.  Later migrations append functions to
``MIGRATIONS``; each runs in its own transaction and bumps ``oidc_schema_version``.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee

from . import models


def _create_initial_schema(db: peewee.Database) -> None:
    db.create_tables(models.ALL_MODELS, safe=True)


MIGRATIONS: tuple[Callable[[peewee.Database], None], ...] = (_create_initial_schema,)
LATEST = len(MIGRATIONS)


def current_version(db: peewee.Database) -> int:
    if not db.table_exists(models.SchemaVersion._meta.table_name):
        return 0
    row = models.SchemaVersion.select(peewee.fn.MAX(models.SchemaVersion.version)).scalar()
    return int(row or 0)


def upgrade(db: peewee.Database) -> tuple[int, int]:
    """Apply every pending migration; returns (version before, version after)."""
    before = current_version(db)
    for number in range(before + 1, LATEST + 1):
        with db.atomic():
            MIGRATIONS[number - 1](db)
            models.SchemaVersion.create(version=number)
    return before, LATEST
