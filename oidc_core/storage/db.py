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


# MySQL/MariaDB sessions behave like PostgreSQL's where the code relies on it: READ COMMITTED
# (each statement sees the rows committed before it; InnoDB's default REPEATABLE READ would
# let a transaction read a stale snapshot), strict mode (a value too long for its column is
# an error, never truncated), double quotes around identifiers as in standard SQL, and
# utf8mb4 with a binary collation (client IDs, digests and keys compare case-sensitively).
MYSQL_SQL_MODE = "STRICT_ALL_TABLES,ANSI_QUOTES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION"
MYSQL_SESSION = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"
MYSQL_COLLATION = "utf8mb4_bin"


def open_database(url: str, echo: bool = False) -> Any:
    """Open ``sqlite:///...``, ``postgresql://...`` or ``mysql://...``.

    SQLite gets WAL and a busy timeout; MySQL/MariaDB the session settings above, and the
    number of rows an UPDATE matched (not only those it changed) as PostgreSQL and SQLite
    report it."""
    if url.startswith("sqlite:"):
        db = connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    elif url.startswith(("postgresql:", "postgres:")):
        db = connect(url)
    elif url.startswith("mysql:"):
        try:
            from pymysql.constants import CLIENT
        except ImportError:
            raise ValueError("mysql:// needs PyMySQL: pip install 'oidc-core[mysql]'") from None
        db = connect(
            url,
            charset="utf8mb4",
            collation=MYSQL_COLLATION,
            sql_mode=MYSQL_SQL_MODE,
            init_command=MYSQL_SESSION,
            client_flag=CLIENT.FOUND_ROWS,
        )
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


def is_mysql(db: Any) -> bool:
    """MySQL or MariaDB (``db`` may be the proxy)."""
    if isinstance(db, peewee.DatabaseProxy):
        db = db.obj
    return isinstance(db, peewee.MySQLDatabase)
