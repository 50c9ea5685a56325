"""The database: opened from a URL, bound to the models once per process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import peewee
from playhouse.db_url import connect

database_proxy = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}


def open_database(url: str, echo: bool = False, statement_timeout_ms: int | None = None) -> Any:
    """Open ``sqlite:///...`` or ``postgresql://...``; SQLite gets WAL and a busy timeout.

    ``statement_timeout_ms`` bounds every statement, lock waits included (PostgreSQL's
    ``statement_timeout``, SQLite's ``busy_timeout``), so that a blocked request ends in a
    ``StorageError`` (a 503) before the worker timeout kills the worker.  None: no bound on
    PostgreSQL (schema upgrades), SQLite's default busy timeout.
    """
    if url.startswith("sqlite:"):
        pragmas = dict(SQLITE_PRAGMAS)
        if statement_timeout_ms is not None:
            pragmas["busy_timeout"] = statement_timeout_ms
        db = connect(url, pragmas=pragmas, check_same_thread=False)
    elif url.startswith(("postgresql:", "postgres:")):
        options = {}
        if statement_timeout_ms is not None:
            options["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        db = connect(url, **options)
    else:
        raise ValueError(f"unsupported database URL scheme in {url.split(':', 1)[0]!r}")
    if echo:
        import logging

        logging.getLogger("peewee").setLevel(logging.DEBUG)
    return db


@contextlib.contextmanager
def write_transaction(db: Any) -> Iterator[None]:
    """A short read-modify-write transaction.

    SQLite takes the write lock at BEGIN (``BEGIN IMMEDIATE``): a deferred transaction that
    upgrades from read to write fails with "database is locked" under concurrency, and
    ``busy_timeout`` does not help it.
    """
    if isinstance(db, peewee.DatabaseProxy):
        db = db.obj
    if isinstance(db, peewee.SqliteDatabase):
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield
