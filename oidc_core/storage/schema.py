"""The schema's version: create or upgrade it (``upgrade``), and check it at start-up.

A new database is created from the current models and stamped with the newest version.
An existing one runs each pending migration (:mod:`.migrations`) in order, each in its own
transaction, and records it in ``oidc_schema_version``.  ``tests/core/test_migrations.py``
checks that both ways end in the same schema.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import peewee

from . import models
from .db import is_mysql
from .migrations import LATEST, MIGRATIONS, create_one_live_key_index
from .mysql import COLLATION as MYSQL_COLLATION


def current_version(db: peewee.Database) -> int:
    if not db.table_exists(models.SchemaVersion._meta.table_name):
        return 0
    row = models.SchemaVersion.select(peewee.fn.MAX(models.SchemaVersion.version)).scalar()
    return int(row or 0)


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this oidc-core runs on: none yet, an older one
    (run ``oidc-core migrate``) or a newer one (:class:`SchemaTooNew`)."""


class SchemaTooNew(SchemaNotCurrent):
    """The database was upgraded by a newer oidc-core than this one."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"the database schema is version {version}, newer than this oidc-core knows "
            f"({LATEST}): upgrade oidc-core (or run the version that upgraded the database)"
        )
        self.version = version


def check(db: peewee.Database) -> None:
    """Raise :class:`SchemaNotCurrent` (:class:`SchemaTooNew` for a newer schema), saying
    what to do, unless the schema is the newest."""
    version = current_version(db)
    if version > LATEST:
        raise SchemaTooNew(version)
    if version == 0:
        raise SchemaNotCurrent(
            "the database has no schema: run `oidc-core migrate` (or `oidc-core init`)"
        )
    if version < LATEST:
        raise SchemaNotCurrent(
            f"the database schema is version {version}, older than this oidc-core's "
            f"({LATEST}): run `oidc-core migrate`"
        )


def problem(db: peewee.Database) -> str | None:
    """Why the provider cannot run on this database (None: the schema is the newest)."""
    try:
        check(db)
    except SchemaNotCurrent as exc:
        return str(exc)
    return None


def upgrade(db: peewee.Database) -> tuple[int, int]:
    """Create or upgrade the schema; returns (version before, version after).

    Raises :class:`SchemaTooNew` on a database of a newer oidc-core, touching nothing."""
    if is_mysql(db):
        _mysql_binary_collation(db)
    before = current_version(db)
    if before > LATEST:
        raise SchemaTooNew(before)
    if before == 0:
        with db.atomic():
            db.create_tables(models.ALL_MODELS)
            create_one_live_key_index(db)
            models.ProviderSecret.create(name="pairwise_salt", value=secrets.token_urlsafe(32))
            models.SchemaVersion.create(version=LATEST)
        return 0, LATEST
    with _sqlite_foreign_keys_off(db):
        for number in range(before + 1, LATEST + 1):
            with db.atomic():
                MIGRATIONS[number - 1](db)
                models.SchemaVersion.create(version=number)
    return before, LATEST


def _mysql_binary_collation(db: peewee.Database) -> None:
    """MySQL/MariaDB compare text case-insensitively by default (``utf8mb4_general_ci``
    and the like); client IDs, digests, subjects and emails compare exactly on SQLite and
    PostgreSQL, and must here too.  The tables this module creates take the database's
    default, so the default becomes ``utf8mb4`` with the binary collation."""
    db.execute_sql(  # type: ignore[no-untyped-call]
        f"ALTER DATABASE CHARACTER SET utf8mb4 COLLATE {MYSQL_COLLATION}"
    )


@contextlib.contextmanager
def _sqlite_foreign_keys_off(db: peewee.Database) -> Iterator[None]:
    """SQLite changes a column by rebuilding its table (copy, DROP, rename); with foreign
    keys on, the DROP deletes every row referencing it (``ON DELETE CASCADE``: codes,
    tokens, consents).  The pragma is ignored inside a transaction, so it is set here,
    around the migrations' transactions, and the references are checked afterwards."""
    if not isinstance(db, peewee.SqliteDatabase) or not db.pragma("foreign_keys"):
        yield
        return
    db.pragma("foreign_keys", 0)
    try:
        yield
        broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()  # type: ignore[no-untyped-call]
        if broken:
            raise RuntimeError(f"foreign key violations after the upgrade: {broken[:5]}")
    finally:
        db.pragma("foreign_keys", 1)
