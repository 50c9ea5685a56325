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
CONNECT_TIMEOUT = 5  # seconds, PostgreSQL


def open_database(url: str, echo: bool = False) -> Any:
    """Open ``sqlite:///...`` or ``postgresql://...``; SQLite gets WAL and a busy timeout."""
    if url.startswith("sqlite:"):
        db = connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    elif url.startswith(("postgresql:", "postgres:")):
        # An unreachable server fails in seconds, not at the kernel's TCP timeout (health
        # checks rely on it); a connect_timeout in the URL wins.
        options = {} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT}
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
