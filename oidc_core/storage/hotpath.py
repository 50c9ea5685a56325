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


def _columns(model: type[models.BaseModel], alias: str, prefix: str = "") -> list[str]:
    return [
        f"{alias}.{field.column_name} AS {prefix}{field.column_name}"
        for field in model._meta.sorted_fields
    ]


def _names(model: type[models.BaseModel]) -> list[str]:
    return [field.column_name for field in model._meta.sorted_fields]


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
        user = _columns(models.User, "u", "u_")
        self.client_by_client_id = (
            f"SELECT {', '.join(_columns(models.Client, 'c'))} "
            f"FROM oidc_client c WHERE c.client_id = {p}"
        )
        self.code_with_user = (
            f"SELECT {', '.join(_columns(models.AuthorizationCode, 'c') + user)} "
            "FROM oidc_authorization_code c JOIN oidc_user u ON u.id = c.user_id "
            f"WHERE c.code_digest = {p}"
        )
        self.consume_code = (
            f"UPDATE oidc_authorization_code SET used_at = {p} WHERE id = {p} AND used_at IS NULL"
        )
        self.insert_access_token = (
            "INSERT INTO oidc_access_token (token_digest, client_id, user_id, code_id, "
            "grant_id, scopes, created_at, expires_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
        )
        self.refresh_with_user = (
            f"SELECT {', '.join(_columns(models.RefreshToken, 'r') + user)} "
            "FROM oidc_refresh_token r JOIN oidc_user u ON u.id = r.user_id "
            f"WHERE r.token_digest = {p}"
        )
        self.consume_refresh = (
            f"UPDATE oidc_refresh_token SET used_at = {p} "
            f"WHERE id = {p} AND used_at IS NULL AND revoked_at IS NULL"
        )
        self.insert_refresh_token = (
            "INSERT INTO oidc_refresh_token (token_digest, client_id, user_id, grant_id, "
            "scopes, auth_time, created_at, expires_at, absolute_expires_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
        )
        self.revoke_family_access = (
            f"UPDATE oidc_access_token SET revoked_at = {p} "
            f"WHERE (grant_id = {p} OR code_id = {p}) AND revoked_at IS NULL"
        )
        self.revoke_family_refresh = (
            f"UPDATE oidc_refresh_token SET revoked_at = {p} "
            f"WHERE grant_id = {p} AND revoked_at IS NULL"
        )
        self.live_access_token = (
            f"SELECT t.id AS id, t.scopes AS scopes, t.expires_at AS expires_at, "
            f"cl.client_id AS client_id, {', '.join(user)} "
            "FROM oidc_access_token t JOIN oidc_client cl ON cl.id = t.client_id "
            "LEFT JOIN oidc_user u ON u.id = t.user_id "  # no user: client credentials
            f"WHERE t.token_digest = {p} AND t.revoked_at IS NULL AND t.expires_at > {p}"
        )
        self._user_names = ["u_" + name for name in _names(models.User)]
        self._sign_in(p, is_mysql(database))
        self._interaction(p)

    def _sign_in(self, p: str, mysql: bool) -> None:
        """The statements of the login pages: the browser session, the pending request,
        the account and the failed sign-in counters (:mod:`.throttle`)."""
        self.session_by_key = (
            "SELECT id, csrf_secret, user_id, auth_time, expires_at, sid "
            f"FROM oidc_browser_session WHERE key_digest = {p} AND expires_at > {p}"
        )
        self.pending_by_handle = (
            "SELECT id, handle, session_id, client_id, params, expires_at, completed_at "
            "FROM oidc_pending_authorization "
            f"WHERE handle = {p} AND session_id = {p} AND expires_at > {p}"
        )
        self.user_by_email = (
            f"SELECT {', '.join(_names(models.User))} FROM oidc_user WHERE email = {p}"
        )
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
        self.counter = f'SELECT failures, locked_until FROM oidc_login_throttle WHERE "key" = {p}'
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
        self.consented_scopes = (
            f"SELECT scopes FROM oidc_consent WHERE user_id = {p} AND client_id = {p} "
            f"AND (expires_at IS NULL OR expires_at > {p})"
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
        names = [column[0] for column in cursor.description]
        return SimpleNamespace(**dict(zip(names, row, strict=True)))

    def user_of(self, row: SimpleNamespace) -> SimpleNamespace:
        """The ``u_``-prefixed user columns of a joined row, unprefixed."""
        return SimpleNamespace(**{name[2:]: getattr(row, name) for name in self._user_names})

    def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run a write statement; the number of rows it changed."""
        return int(_database().execute_sql(sql, params).rowcount)

    def insert(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run an INSERT of one row (``RETURNING id`` on PostgreSQL); the new row's id."""
        cursor = _database().execute_sql(sql, params)
        return int(cursor.fetchone()[0] if self._returning else cursor.lastrowid)
