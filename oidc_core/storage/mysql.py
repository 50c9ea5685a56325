"""MySQL and MariaDB connections: the session settings the code relies on and the bound on
every statement.

Sessions behave like PostgreSQL's where the code relies on it: READ COMMITTED (each
statement sees the rows committed before it; InnoDB's default REPEATABLE READ would let a
transaction read a stale snapshot), strict mode (a value too long for its column is an
error, never truncated), double quotes around identifiers as in standard SQL, and utf8mb4
with a binary collation (client IDs, digests and keys compare case-sensitively).
"""

from __future__ import annotations

import math
from typing import Any

import peewee
from playhouse.db_url import parse
from playhouse.pool import PooledMySQLDatabase as PeeweePooledMySQL

SQL_MODE = "STRICT_ALL_TABLES,ANSI_QUOTES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION"
SESSION = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"
COLLATION = "utf8mb4_bin"
CONNECT_TIMEOUT = 5  # seconds: an unreachable server fails fast (health checks rely on it)


def timeout_settings(server_version: str, statement_timeout_ms: int) -> str:
    """The ``SET SESSION`` that bounds statements to ``statement_timeout_ms`` on the server
    whose version string is ``server_version``.

    Both servers: a wait for a row lock (``innodb_lock_wait_timeout``) or for a table's
    metadata lock, held by a running migration or ``LOCK TABLES`` (``lock_wait_timeout``),
    ends after the bound rounded up to whole seconds, at least 1 s (error 1205).
    MariaDB: ``max_statement_time`` also ends any statement, read or write, running or
    waiting, after the exact bound (error 1969).  MySQL: ``max_execution_time`` ends a
    read-only SELECT after the exact bound (error 3024); a write is bounded only while it
    waits for a lock.
    """
    lock_seconds = max(1, math.ceil(statement_timeout_ms / 1000))
    settings = [f"innodb_lock_wait_timeout = {lock_seconds}", f"lock_wait_timeout = {lock_seconds}"]
    if "mariadb" in server_version.lower():
        settings.append(f"max_statement_time = {statement_timeout_ms / 1000:.3f}")
    else:
        settings.append(f"max_execution_time = {int(statement_timeout_ms)}")
    return "SET SESSION " + ", ".join(settings)


class MySQLDatabase(peewee.MySQLDatabase):
    """Each new connection gets the bound of :func:`timeout_settings` (none if None)."""

    def __init__(
        self, database: str, *, statement_timeout_ms: int | None = None, **kwargs: Any
    ) -> None:
        self.statement_timeout_ms = statement_timeout_ms
        super().__init__(database, **kwargs)

    def _initialize_connection(self, conn: Any) -> None:
        if self.statement_timeout_ms is None:
            return
        with conn.cursor() as cursor:
            cursor.execute(timeout_settings(conn.get_server_info(), self.statement_timeout_ms))


class PooledMySQLDatabase(PeeweePooledMySQL, MySQLDatabase):  # type: ignore[misc]
    """``mysql+pool://``: :class:`MySQLDatabase` connections in :mod:`playhouse.pool`'s pool
    (its MySQL pool pings a connection before handing it out and rolls back what a request
    left open)."""


POOLED_SCHEME = "mysql+pool:"


def open_mysql(url: str, statement_timeout_ms: int | None, pool_wait: int) -> MySQLDatabase:
    """``mysql://user:password@host:port/database`` through PyMySQL; the query's
    parameters go to the driver (``connect_timeout`` there wins over :data:`CONNECT_TIMEOUT`).
    ``mysql+pool://...?max_connections=20&stale_timeout=300&timeout=10`` pools the
    connections (a request waits up to ``timeout`` seconds, default ``pool_wait``, for one)."""
    try:
        from pymysql.constants import CLIENT
    except ImportError:
        raise ValueError("mysql:// needs PyMySQL: pip install 'oidc-core[mysql]'") from None
    pooled = url.startswith(POOLED_SCHEME)
    params: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT}
    if pooled:
        params["timeout"] = pool_wait
        url = "mysql:" + url[len(POOLED_SCHEME) :]
    params.update(parse(url))
    database = PooledMySQLDatabase if pooled else MySQLDatabase
    return database(
        **params,
        statement_timeout_ms=statement_timeout_ms,
        charset="utf8mb4",
        collation=COLLATION,
        sql_mode=SQL_MODE,
        init_command=SESSION,
        # the rows an UPDATE matched, not only those it changed, as PostgreSQL and SQLite
        client_flag=CLIENT.FOUND_ROWS,
    )
