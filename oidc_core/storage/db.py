"""The database: opened from a URL, bound to the models once per process."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import peewee
from playhouse.db_url import connect
from playhouse.pool import PooledDatabase

from .mysql import open_mysql

database_proxy = peewee.DatabaseProxy()
T = TypeVar("T")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "normal",
}
CONNECT_TIMEOUT = 5  # seconds, PostgreSQL (MySQL: .mysql)


POSTGRESQL_SCHEMES = ("postgresql:", "postgres:")
POOLED_SCHEMES = ("postgresql+pool:", "postgres+pool:")
# How long a request waits for a free pooled connection (``timeout=`` in the URL) before
# it fails with 503, when all ``max_connections`` are in use.
POOL_WAIT_SECONDS = 10


def open_database(url: str, echo: bool = False, statement_timeout_ms: int | None = None) -> Any:
    """Open ``sqlite:///...``, ``postgresql://...`` or ``mysql://...``; SQLite gets WAL and a
    busy timeout; MySQL/MariaDB the session settings of :mod:`.mysql`.

    ``postgresql+pool://...?max_connections=20&stale_timeout=300`` (``mysql+pool://...``
    likewise) opens a connection pool
    (:mod:`playhouse.pool`): each request returns its connection to the pool when it ends,
    and waits up to ``timeout`` seconds (default :data:`POOL_WAIT_SECONDS`) for a free one.
    The query's other parameters go to the driver (``application_name=...``).

    ``statement_timeout_ms`` bounds every statement, lock waits included (PostgreSQL's
    ``statement_timeout``, SQLite's ``busy_timeout``; on MySQL and MariaDB what
    :func:`.mysql.timeout_settings` says), so that a blocked request ends in a
    ``StorageError`` (a 503) before the worker timeout kills the worker.  None: no bound on
    PostgreSQL, MySQL and MariaDB (schema upgrades), SQLite's default busy timeout.
    """
    if url.startswith("sqlite:"):
        pragmas = dict(SQLITE_PRAGMAS)
        if statement_timeout_ms is not None:
            pragmas["busy_timeout"] = statement_timeout_ms
        db = connect(url, pragmas=pragmas, check_same_thread=False)
    elif url.startswith(POSTGRESQL_SCHEMES + POOLED_SCHEMES):
        # An unreachable server fails in seconds, not at the kernel's TCP timeout (health
        # checks rely on it); a connect_timeout in the URL wins.
        query = parse_qs(urlsplit(url).query)
        options: dict[str, Any] = (
            {} if "connect_timeout" in query else {"connect_timeout": CONNECT_TIMEOUT}
        )
        if url.startswith(POOLED_SCHEMES) and "timeout" not in query:
            options["timeout"] = POOL_WAIT_SECONDS
        if statement_timeout_ms is not None:
            options["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        db = connect(url, **options)
    elif url.startswith(("mysql:", "mysql+pool:")):
        db = open_mysql(url, statement_timeout_ms, POOL_WAIT_SECONDS)
    else:
        raise ValueError(f"unsupported database URL scheme in {url.split(':', 1)[0]!r}")
    if echo:
        import logging

        logging.getLogger("peewee").setLevel(logging.DEBUG)
    return db


def is_pooled(db: Any) -> bool:
    return isinstance(db, PooledDatabase)


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


DEADLOCK_ATTEMPTS = 8
# MySQL/MariaDB: ER_LOCK_DEADLOCK; PostgreSQL: deadlock_detected, serialization_failure.
DEADLOCK_ERRNO = 1213
DEADLOCK_SQLSTATES = ("40P01", "40001")


def is_deadlock(error: BaseException) -> bool:
    """Whether the database ended the transaction as a deadlock victim."""
    # peewee re-raises the driver's error as its own with the same arguments (PyMySQL's
    # first one is the error number), the driver's error as the context (psycopg's carries
    # the SQLSTATE).
    driver_error = error.__cause__ or error.__context__
    if getattr(driver_error, "sqlstate", None) in DEADLOCK_SQLSTATES:
        return True
    return bool(error.args) and error.args[0] == DEADLOCK_ERRNO


def retried_on_deadlock(operation: Callable[[], T]) -> T:
    """Run ``operation``, one whole write transaction, again when the database ends it as
    a deadlock victim (after a short random pause, a few times at most).

    InnoDB resolves a lock cycle between concurrent upserts of neighbouring keys by rolling
    one transaction back, and its manual says to re-issue it; nothing of the victim was
    kept.  Inside a caller's transaction nothing is retried: the whole of it is gone, and
    only its owner can run it again."""
    db = database_proxy.obj
    if db.in_transaction():
        return operation()
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            return operation()
        except (peewee.OperationalError, peewee.InternalError) as error:
            if attempt == DEADLOCK_ATTEMPTS or not is_deadlock(error):
                raise
        time.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 - not a secret
    raise AssertionError("unreachable")
