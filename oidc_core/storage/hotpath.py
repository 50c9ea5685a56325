"""Prebuilt SQL for the statements every token, userinfo and password sign-in runs.

peewee's query builder costs about three times the statements themselves (PERF-NOTES:
~0.5 ms per token request on SQLite, several on PostgreSQL; a password sign-in built 25
statements over its three requests), and these few statements are fixed.  They are built
once per database, whole rows from the models' own column names, so a schema change
reaches them, and the whole test suite runs them on SQLite and PostgreSQL.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import peewee

from . import models
from .db import database_proxy, is_mysql

# The columns a token request writes; a row's values come in this order.
ACCESS_COLUMNS = (
    "token_digest",
    "client_id",
    "user_id",
    "code_id",
    "grant_id",
    "scopes",
    "created_at",
    "expires_at",
)
REFRESH_COLUMNS = (
    "token_digest",
    "client_id",
    "user_id",
    "grant_id",
    "scopes",
    "auth_time",
    "created_at",
    "expires_at",
    "absolute_expires_at",
)


def _columns(model: type[models.BaseModel], alias: str, prefix: str = "") -> list[str]:
    return [
        f"{alias}.{field.column_name} AS {prefix}{field.column_name}"
        for field in model._meta.sorted_fields
    ]


def _names(model: type[models.BaseModel]) -> list[str]:
    return [field.column_name for field in model._meta.sorted_fields]


def _redeeming(consume: str, with_refresh: bool, p: str) -> str:
    """``consume`` (an UPDATE of one row) and the inserts of the new tokens as one
    statement, answering how many rows it consumed (0 or 1): PostgreSQL only."""
    inserts = [("access", _insert("oidc_access_token", ACCESS_COLUMNS, p, "used"))]
    if with_refresh:
        inserts.append(("refresh", _insert("oidc_refresh_token", REFRESH_COLUMNS, p, "used")))
    parts = [f"used AS ({consume} RETURNING id)"] + [f"{name} AS ({sql})" for name, sql in inserts]
    return f"WITH {', '.join(parts)} SELECT count(*) FROM used"


def _insert(table: str, columns: tuple[str, ...], p: str, source: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (...)``, or ``SELECT ... FROM source`` (one row
    per row of ``source``) when given."""
    values = ", ".join([p] * len(columns))
    rows = f"SELECT {values} FROM {source}" if source else f"VALUES ({values})"
    return f"INSERT INTO {table} ({', '.join(columns)}) {rows}"


def _database() -> Any:
    """The database the models are bound to: the statements run on the connection that
    the stores' transactions (``write_transaction(database_proxy)``) use, also when a
    second :class:`~oidc_core.storage.Storage` was opened in the process since."""
    return database_proxy.obj


class HotPath:
    """The statements, with the placeholder style of one database (``?`` or ``%s``)."""

    def __init__(self, database: Any) -> None:
        # PostgreSQL hands back a new row's id with RETURNING; the others as lastrowid.
        self._returning = isinstance(database, peewee.PostgresqlDatabase)
        p = database.param
        # The names each SELECT gives its columns: reading them from cursor.description
        # builds a column object per column per row (psycopg: ~50 per token request).
        self._selected: dict[str, list[str]] = {}
        user = _columns(models.User, "u", "u_")
        self.client_by_client_id = self._select(
            _columns(models.Client, "c"), f"FROM oidc_client c WHERE c.client_id = {p}"
        )
        self.code_with_user = self._select(
            _columns(models.AuthorizationCode, "c") + user,
            "FROM oidc_authorization_code c JOIN oidc_user u ON u.id = c.user_id "
            f"WHERE c.code_digest = {p}",
        )
        self.consume_code = (
            f"UPDATE oidc_authorization_code SET used_at = {p} WHERE id = {p} AND used_at IS NULL"
        )
        self.insert_access_token = _insert("oidc_access_token", ACCESS_COLUMNS, p)
        self.refresh_with_user = self._select(
            _columns(models.RefreshToken, "r") + user,
            "FROM oidc_refresh_token r JOIN oidc_user u ON u.id = r.user_id "
            f"WHERE r.token_digest = {p}",
        )
        self.consume_refresh = (
            f"UPDATE oidc_refresh_token SET used_at = {p} "
            f"WHERE id = {p} AND used_at IS NULL AND revoked_at IS NULL"
        )
        self.insert_refresh_token = _insert("oidc_refresh_token", REFRESH_COLUMNS, p)
        self.revoke_family_access = (
            f"UPDATE oidc_access_token SET revoked_at = {p} "
            f"WHERE (grant_id = {p} OR code_id = {p}) AND revoked_at IS NULL"
        )
        self.revoke_family_refresh = (
            f"UPDATE oidc_refresh_token SET revoked_at = {p} "
            f"WHERE grant_id = {p} AND revoked_at IS NULL"
        )
        token = ["t.id AS id", "t.scopes AS scopes", "t.expires_at AS expires_at"]
        self.live_access_token = self._select(
            [*token, "cl.client_id AS client_id", *user],
            "FROM oidc_access_token t JOIN oidc_client cl ON cl.id = t.client_id "
            "LEFT JOIN oidc_user u ON u.id = t.user_id "  # no user: client credentials
            f"WHERE t.token_digest = {p} AND t.revoked_at IS NULL AND t.expires_at > {p}",
        )
        self._user_names = ["u_" + name for name in _names(models.User)]
        # PostgreSQL redeems a code or a refresh token in one statement (data-modifying
        # WITH): three writes in one round trip instead of three.  It still runs in a
        # transaction the worker commits: in autocommit, a statement left waiting for a
        # lock by a worker killed meanwhile would commit once it got the lock, using up
        # the code for a client that never got its tokens (T-73 wants it rolled back).
        self.redeems_in_one_statement = isinstance(database, peewee.PostgresqlDatabase)
        self._redeem = {
            (kind, with_refresh): _redeeming(consume, with_refresh, p)
            for kind, consume in (("code", self.consume_code), ("refresh", self.consume_refresh))
            for with_refresh in (False, True)
        }
        self._sign_in(p, is_mysql(database))
        self._interaction(p)

    def _select(self, columns: list[str], rest: str) -> str:
        """``SELECT columns rest``, remembering the names ``expression AS name`` gives."""
        sql = f"SELECT {', '.join(columns)} {rest}"
        self._selected[sql] = [column.rpartition(" AS ")[2] for column in columns]
        return sql

    def _sign_in(self, p: str, mysql: bool) -> None:
        """The statements of the login pages: the browser session, the pending request,
        the account and the failed sign-in counters (:mod:`.throttle`)."""
        self.session_by_key = self._select(
            ["id", "csrf_secret", "user_id", "auth_time", "expires_at", "sid"],
            f"FROM oidc_browser_session WHERE key_digest = {p} AND expires_at > {p}",
        )
        self.pending_by_handle = self._select(
            ["id", "handle", "session_id", "client_id", "params", "expires_at", "completed_at"],
            "FROM oidc_pending_authorization "
            f"WHERE handle = {p} AND session_id = {p} AND expires_at > {p}",
        )
        self.user_by_email = self._select(_names(models.User), f"FROM oidc_user WHERE email = {p}")
        # One more failure, atomically; a stale counter (last failure before the window,
        # not locked) starts again from one.  MySQL/MariaDB take no conflict target and
        # assign in order: ``failures`` reads the old ``last_failure_at``, as elsewhere.
        on_conflict = "ON DUPLICATE KEY UPDATE" if mysql else 'ON CONFLICT ("key") DO UPDATE SET'
        self.count_failure = (
            'INSERT INTO oidc_login_throttle ("key", failures, last_failure_at, locked_until) '
            f"VALUES ({p}, 1, {p}, 0) {on_conflict} failures = CASE WHEN "
            f"(oidc_login_throttle.last_failure_at < {p} AND oidc_login_throttle.locked_until "
            f"<= {p}) THEN 1 ELSE oidc_login_throttle.failures + 1 END, last_failure_at = {p}"
        )
        self.counter = self._select(
            ["failures", "locked_until"], f'FROM oidc_login_throttle WHERE "key" = {p}'
        )
        self.refund_failure = (
            "UPDATE oidc_login_throttle SET failures = "
            f'CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END WHERE "key" = {p}'
        )
        self.forget_counter = f'DELETE FROM oidc_login_throttle WHERE "key" = {p}'

    def _interaction(self, p: str) -> None:
        """The writes of an authorization request that waits for a login (a new session,
        the pending request) and of the login that ends it (the session signed in, the
        consent looked up, the pending request finished, the code stored)."""
        self.insert_session = (
            "INSERT INTO oidc_browser_session (key_digest, csrf_secret, created_at, expires_at, "
            f"sid, user_agent, ip_address) VALUES ({p}, {p}, {p}, {p}, {p}, '', '')"
        ) + (" RETURNING id" if self._returning else "")
        self.insert_pending = (
            "INSERT INTO oidc_pending_authorization (handle, session_id, client_id, params, "
            f"created_at, expires_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
        )
        # ``sid`` first: MySQL/MariaDB assign in order, so its CASE must read the user the
        # session had before this statement (the others read the old row anyway).
        self.session_log_in = (
            f"UPDATE oidc_browser_session SET sid = CASE WHEN user_id = {p} THEN sid ELSE {p} "
            f"END, key_digest = {p}, csrf_secret = {p}, user_id = {p}, auth_time = {p}, "
            f"expires_at = {p}, user_agent = {p}, ip_address = {p} WHERE id = {p}"
        )
        self.consented_scopes = self._select(
            ["scopes"],
            f"FROM oidc_consent WHERE user_id = {p} AND client_id = {p} "
            f"AND (expires_at IS NULL OR expires_at > {p})",
        )
        self.finish_pending = (
            f"UPDATE oidc_pending_authorization SET completed_at = {p} "
            f"WHERE id = {p} AND completed_at IS NULL"
        )
        self.insert_code = (
            "INSERT INTO oidc_authorization_code (code_digest, client_id, user_id, "
            "redirect_uri, scopes, nonce, claims, code_challenge, code_challenge_method, "
            f"auth_time, created_at, expires_at, sid) VALUES ({', '.join([p] * 13)})"
        )

    def fetch_one(self, sql: str, params: tuple[Any, ...]) -> SimpleNamespace | None:
        """One row as attributes named like the selected columns; None when there is none."""
        cursor = _database().execute_sql(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return SimpleNamespace(**dict(zip(self._selected[sql], row, strict=True)))

    def user_of(self, row: SimpleNamespace) -> SimpleNamespace:
        """The ``u_``-prefixed user columns of a joined row, unprefixed."""
        return SimpleNamespace(**{name[2:]: getattr(row, name) for name in self._user_names})

    def redeem(
        self,
        kind: str,
        row_id: int,
        now: int,
        access: tuple[Any, ...],
        refresh: tuple[Any, ...] | None,
    ) -> bool:
        """Mark a ``code`` or ``refresh`` token used and insert the new token rows (values
        in ``ACCESS_COLUMNS`` and ``REFRESH_COLUMNS`` order) in one statement; False, and
        nothing written, when it was used already.  Only where
        :attr:`redeems_in_one_statement`."""
        sql = self._redeem[(kind, refresh is not None)]
        params = (now, row_id, *access, *(refresh or ()))
        return bool(_database().execute_sql(sql, params).fetchone()[0] == 1)

    def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run a write statement; the number of rows it changed."""
        return int(_database().execute_sql(sql, params).rowcount)

    def insert(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run an INSERT of one row (``RETURNING id`` on PostgreSQL); the new row's id."""
        cursor = _database().execute_sql(sql, params)
        return int(cursor.fetchone()[0] if self._returning else cursor.lastrowid)
