"""Every hand-written SQL statement of the stores, prebuilt once per database.

peewee's query builder costs about three times the statements themselves (PERF-NOTES:
~0.5 ms per token request on SQLite, several on PostgreSQL; a password sign-in built 25
statements over its three requests), and these statements are fixed.  They are built from
the models' metadata with :mod:`.sql`; what makes a token *live* is written once there
(:func:`.sql.live_condition`).  The whole test suite runs these statements on SQLite,
PostgreSQL and MySQL/MariaDB.  (The migrations' DDL is frozen history and stays in
:mod:`.migrations`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import peewee

from . import models
from .db import database_proxy, is_mysql
from .sql import (
    TABLES,
    Insert,
    Table,
    columns_of,
    fill,
    first_use,
    live_condition,
    of_active_account,
    redeeming,
)


def _database() -> Any:
    """The database the models are bound to: the statements run on the connection that
    the stores' transactions (``write_transaction(database_proxy)``) use, also when a
    second :class:`~oidc_core.storage.Storage` was opened in the process since."""
    return database_proxy.obj


class HotPath:
    """The statements, with the placeholder style of one database (``?`` or ``%s``)."""

    ping = "SELECT 1"

    def __init__(self, database: Any) -> None:
        # PostgreSQL hands back a new row's id with RETURNING; the others as lastrowid.
        self._returning = isinstance(database, peewee.PostgresqlDatabase)
        self._p = p = database.param
        # The names each SELECT gives its columns: reading them from cursor.description
        # builds a column object per column per row (psycopg: ~50 per token request).
        self._selected: dict[str, list[str]] = {}
        self._counters: dict[int, str] = {}
        self._user_names = ["u_" + field.column_name for field in models.User._meta.sorted_fields]
        self._grants(p)
        self._sign_in(p, is_mysql(database))
        self._interaction(p)

    def _select(self, columns: list[str], rest: str, **tables: Table) -> str:
        """``SELECT columns rest``, remembering the names ``expression AS name`` gives."""
        sql = f"SELECT {', '.join(columns)} {fill(rest, self._p, **tables)}"
        self._selected[sql] = [column.rpartition(" AS ")[2].strip('"') for column in columns]
        return sql

    def _grants(self, p: str) -> None:
        """The token endpoint's statements: the client, the code or refresh token with its
        user, consuming it and inserting its successors; the bearer check; introspection."""
        user = columns_of(models.User, "u", "u_")
        self.client_by_client_id = self._select(
            columns_of(models.Client, "c"), "FROM {client} c WHERE c.{client:client_id} = {p}"
        )
        self.code_with_user = self._select(
            columns_of(models.AuthorizationCode, "c") + user,
            "FROM {code} c JOIN {user} u ON u.{user:id} = c.{code:user} "
            "WHERE c.{code:code_digest} = {p}",
        )
        self.refresh_with_user = self._select(
            columns_of(models.RefreshToken, "r") + user,
            "FROM {refresh} r JOIN {user} u ON u.{user:id} = r.{refresh:user} "
            "WHERE r.{refresh:token_digest} = {p}",
        )
        self.consume_code = first_use("code", "used_at", p)
        self.consume_refresh = first_use("refresh", "used_at", p, unrevoked=True)
        self.insert_access_token = Insert(models.AccessToken, p)
        self.insert_refresh_token = Insert(models.RefreshToken, p)
        self.revoke_family_access = fill(
            "UPDATE {access} SET {access:revoked_at} = {p} WHERE ({access:grant_id} = {p} "
            "OR {access:code} = {p}) AND {access:revoked_at} IS NULL",
            p,
        )
        self.revoke_family_refresh = fill(
            "UPDATE {refresh} SET {refresh:revoked_at} = {p} WHERE {refresh:grant_id} = {p} "
            "AND {refresh:revoked_at} IS NULL",
            p,
        )
        # A live token of an active account by its digest (userinfo, introspection, the
        # bearer check), and a user's live tokens (the connected apps).
        self.live_token: dict[str, str] = {}
        self.live_tokens_of_user: dict[str, str] = {}
        token = ("id", "client", "scopes", "created_at", "expires_at")
        client_subject = ('cl."subject_type" AS "client_subject_type"',
                          'cl."sector_identifier" AS "client_sector_identifier"')  # fmt: skip
        for kind in ("access", "refresh"):
            t = TABLES[kind]
            live = live_condition(kind, "t", p)
            self.live_token[kind] = self._select(
                [
                    *columns_of(t.model, "t", only=token),
                    'cl."client_id" AS "client_key"',
                    *client_subject,  # the sub its client sees (subjects.py)
                    *user,
                ],
                "FROM {t} t JOIN {client} cl ON cl.{client:id} = t.{t:client} "
                "LEFT JOIN {user} u ON u.{user:id} = t.{t:user} "  # none: client credentials
                f"WHERE t.{{t:token_digest}} = {{p}} AND {live} "
                f"AND {of_active_account('t', 'u')}",
                t=t,
            )
            self.live_tokens_of_user[kind] = self._select(
                columns_of(t.model, "t", only=("client", "scopes", "created_at")),
                f"FROM {{t}} t WHERE t.{{t:user}} = {{p}} AND {live}",
                t=t,
            )
        # PostgreSQL redeems a code or a refresh token in one statement (data-modifying
        # WITH): three writes in one round trip instead of three.  It still runs in a
        # transaction the worker commits: in autocommit, a statement left waiting for a
        # lock by a worker killed meanwhile would commit once it got the lock, using up
        # the code for a client that never got its tokens (T-73 wants it rolled back).
        self.redeems_in_one_statement = self._returning
        self._consume = {"code": self.consume_code, "refresh": self.consume_refresh}
        self._redeem = {
            (kind, with_refresh): redeeming(
                consume,
                self.insert_access_token,
                self.insert_refresh_token if with_refresh else None,
            )
            for kind, consume in self._consume.items()
            for with_refresh in (False, True)
        }

    def _sign_in(self, p: str, mysql: bool) -> None:
        """The statements of the login pages: the browser session, the pending request,
        the account and the failed sign-in counters (:mod:`.throttle`)."""
        self.session_by_key = self._select(
            columns_of(
                models.BrowserSession,
                "s",
                only=("id", "csrf_secret", "user", "auth_time", "expires_at", "sid", "amr"),
            ),
            "FROM {session} s WHERE s.{session:key_digest} = {p} AND s.{session:expires_at} > {p}",
        )
        self.pending_by_handle = self._select(
            columns_of(models.PendingAuthorization, "pa"),
            "FROM {pending} pa WHERE pa.{pending:handle} = {p} "
            "AND pa.{pending:session} = {p} AND pa.{pending:expires_at} > {p}",
        )
        self.user_by_email = self._select(
            columns_of(models.User, "u"), "FROM {user} u WHERE u.{user:email} = {p}"
        )
        self.user_by_id = self._select(
            columns_of(models.User, "u"), "FROM {user} u WHERE u.{user:id} = {p}"
        )
        # One more failure, atomically; a stale counter (last failure before the window,
        # not locked) starts again from one.  MySQL/MariaDB take no conflict target and
        # assign in order: ``failures`` reads the old ``last_failure_at``, as elsewhere.
        on_conflict = (
            "ON DUPLICATE KEY UPDATE" if mysql else "ON CONFLICT ({throttle:key}) DO UPDATE SET"
        )
        self.count_failure = fill(
            "INSERT INTO {throttle} ({throttle:key}, {throttle:failures}, "
            "{throttle:last_failure_at}, {throttle:locked_until}) VALUES ({p}, 1, {p}, 0) "
            f"{on_conflict} "
            "{throttle:failures} = CASE WHEN ({throttle}.{throttle:last_failure_at} < {p} "
            "AND {throttle}.{throttle:locked_until} <= {p}) THEN 1 "
            "ELSE {throttle}.{throttle:failures} + 1 END, {throttle:last_failure_at} = {p}",
            p,
        )
        self.counter = self._select(
            columns_of(models.LoginThrottle, "k", only=("failures", "locked_until")),
            "FROM {throttle} k WHERE k.{throttle:key} = {p}",
        )
        self.refund_failure = fill(
            "UPDATE {throttle} SET {throttle:failures} = CASE WHEN {throttle:failures} > 0 "
            "THEN {throttle:failures} - 1 ELSE 0 END WHERE {throttle:key} = {p}",
            p,
        )
        self.forget_counter = fill("DELETE FROM {throttle} WHERE {throttle:key} = {p}", p)

    def counters(self, count: int) -> str:
        """The counters of ``count`` keys: ``key, failures, locked_until`` of each."""
        sql = self._counters.get(count)
        if sql is None:
            keys = ", ".join([self._p] * count)  # the values go as parameters
            sql = self._counters[count] = self._select(
                columns_of(models.LoginThrottle, "k", only=("key", "failures", "locked_until")),
                f"FROM {{throttle}} k WHERE k.{{throttle:key}} IN ({keys})",
            )
        return sql

    def _interaction(self, p: str) -> None:
        """The writes of an authorization request that waits for a login (a new session,
        the pending request) and of the login that ends it (the session signed in, the
        consent looked up, the pending request finished, the code stored)."""
        self.insert_session = Insert(models.BrowserSession, p, returning=self._returning)
        self.insert_pending = Insert(models.PendingAuthorization, p)
        # ``sid`` first: MySQL/MariaDB assign in order, so its CASE must read the user the
        # session had before this statement (the others read the old row anyway).
        self.session_log_in = fill(
            "UPDATE {session} SET {session:sid} = CASE WHEN {session:user} = {p} "
            "THEN {session:sid} ELSE {p} END, {session:key_digest} = {p}, "
            "{session:csrf_secret} = {p}, {session:user} = {p}, {session:auth_time} = {p}, "
            "{session:expires_at} = {p}, {session:user_agent} = {p}, "
            "{session:ip_address} = {p}, {session:amr} = {p}, {session:pending_user_id} = NULL, "
            "{session:pending_amr} = NULL, {session:pending_at} = NULL WHERE {session:id} = {p}",
            p,
        )
        self.consented_scopes = self._select(
            columns_of(models.Consent, "c", only=("scopes",)),
            "FROM {consent} c WHERE c.{consent:user} = {p} AND c.{consent:client} = {p} "
            "AND (c.{consent:expires_at} IS NULL OR c.{consent:expires_at} > {p})",
        )
        self.finish_pending = first_use("pending", "completed_at", p)
        self.insert_code = Insert(models.AuthorizationCode, p)

    @property
    def param(self) -> str:
        """The database's placeholder (``?`` or ``%s``), for statements built elsewhere."""
        return str(self._p)

    def fetch_one(self, sql: str, params: tuple[Any, ...]) -> SimpleNamespace | None:
        """One row as attributes named like the selected columns; None when there is none."""
        cursor = _database().execute_sql(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        return SimpleNamespace(**dict(zip(self._selected[sql], row, strict=True)))

    def rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Every row as a tuple, in the order of the selected columns."""
        return list(_database().execute_sql(sql, params).fetchall())

    def fetch_all(self, sql: str, params: tuple[Any, ...]) -> list[SimpleNamespace]:
        """Every row, as :meth:`fetch_one` gives one."""
        names = self._selected[sql]
        return [
            SimpleNamespace(**dict(zip(names, row, strict=True))) for row in self.rows(sql, params)
        ]

    def user_of(self, row: SimpleNamespace) -> SimpleNamespace:
        """The ``u_``-prefixed user columns of a joined row, unprefixed."""
        return SimpleNamespace(**{name[2:]: getattr(row, name) for name in self._user_names})

    def redeem(
        self,
        kind: str,
        row_id: int,
        now: int,
        access: Mapping[str, Any],
        refresh: Mapping[str, Any] | None,
    ) -> bool:
        """Mark a ``code`` or ``refresh`` token used and insert the new token rows, inside
        the caller's transaction; False, and nothing written, when it was used already.
        PostgreSQL does it in one statement (:attr:`redeems_in_one_statement`)."""
        access_values = self.insert_access_token.params(access)
        refresh_values = None if refresh is None else self.insert_refresh_token.params(refresh)
        if self.redeems_in_one_statement:
            sql = self._redeem[(kind, refresh is not None)]
            params = (now, row_id, *access_values, *(refresh_values or ()))
            return bool(_database().execute_sql(sql, params).fetchone()[0] == 1)
        if self.execute(self._consume[kind], (now, row_id)) != 1:
            return False
        self.execute(self.insert_access_token.sql, access_values)
        if refresh_values is not None:
            self.execute(self.insert_refresh_token.sql, refresh_values)
        return True

    def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run a write statement; the number of rows it changed."""
        return int(_database().execute_sql(sql, params).rowcount)

    def write(self, insert: Insert, row: Mapping[str, Any]) -> None:
        """Insert one row, a mapping by column name."""
        _database().execute_sql(insert.sql, insert.params(row))

    def insert(self, insert: Insert, row: Mapping[str, Any]) -> int:
        """Insert one row (as :meth:`write`); the new row's id (an :class:`Insert` built
        ``returning``: PostgreSQL hands it back as a row)."""
        cursor = _database().execute_sql(insert.sql, insert.params(row))
        return int(cursor.fetchone()[0] if insert.returning else cursor.lastrowid)
