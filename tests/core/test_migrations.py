"""A database created by the first released schema (0.1.0) upgrades in place, losing nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from oidc_core.admin.service import ClientAdmin
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from oidc_core.storage.migrations import LATEST

V1_SCHEMA = Path(__file__).parent / "data" / "schema_v1_sqlite.sql"


def test_upgrade_from_v1_keeps_data(tmp_path: Path, storage: Storage) -> None:
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA.read_text())
        conn.execute("INSERT INTO oidc_schema_version (version) VALUES (1)")
        conn.execute(
            "INSERT INTO oidc_client (client_id, secret_digest, name, description, client_uri, "
            "logo_uri, redirect_uris, allowed_scopes, require_pkce, skip_consent, created_at, "
            "updated_at) VALUES ('c1', ?, 'Old app', '', '', '', 'https://rp.example/cb', "
            "'openid email', 1, 0, 10, 20)",
            ("a" * 64,),
        )
        conn.execute(
            "INSERT INTO oidc_user (subject, email, password_hash, name, given_name, "
            "family_name, preferred_username, locale, email_verified, is_admin, created_at, "
            "updated_at) VALUES ('sub1', 'old@example.com', 'x', 'Old', '', '', '', '', 1, 0, 1, 1)"
        )
    try:
        upgraded = Storage(f"sqlite:///{path}")
        assert upgraded.upgrade() == (1, LATEST)
        assert upgraded.upgrade() == (LATEST, LATEST)  # idempotent
        client = upgraded.clients.by_client_id("c1")
        assert client is not None
        assert client.name == "Old app" and client.redirect_uris == ("https://rp.example/cb",)
        assert client.allowed_scopes == frozenset({"openid", "email"}) and client.require_pkce
        assert not client.is_public and client.access_token_ttl is None
        assert client.secret_digest == "a" * 64
        user = upgraded.users.by_email("old@example.com")
        assert user is not None and user.subject == "sub1" and user.email_verified
        tables = {
            row[0]
            for row in upgraded.database.execute_sql(
                "SELECT name FROM sqlite_master WHERE type='table'"
            )
        }
        assert {"oidc_audit_log", "oidc_admin_token"} <= tables
        upgraded.close()
    finally:
        database_proxy.initialize(storage.database)


def test_upgrade_from_v1_keeps_grants_and_administers_old_clients(
    tmp_path: Path, storage: Storage
) -> None:
    """Tokens, codes and consents survive; the new columns and tables work on old rows."""
    path = tmp_path / "v1-grants.db"
    token = "an-access-token-issued-by-0.1.0"
    far = int(time.time()) + 3600
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA.read_text())
        conn.execute("INSERT INTO oidc_schema_version (version) VALUES (1)")
        conn.execute(
            "INSERT INTO oidc_client (id, client_id, secret_digest, name, description, "
            "client_uri, logo_uri, redirect_uris, allowed_scopes, require_pkce, skip_consent, "
            "created_at, updated_at) VALUES (7, 'c1', ?, 'Old app', '', '', '', "
            "'https://rp.example/cb', 'openid email', 0, 0, 10, 20)",
            (hashlib.sha256(b"old secret").hexdigest(),),
        )
        conn.execute(
            "INSERT INTO oidc_user (id, subject, email, password_hash, name, given_name, "
            "family_name, preferred_username, locale, email_verified, is_admin, created_at, "
            "updated_at) VALUES (3, 'sub1', 'old@example.com', 'x', 'Old', '', '', '', '', 1, 0, "
            "1, 1)"
        )
        conn.execute(
            "INSERT INTO oidc_authorization_code (id, code_digest, client_id, user_id, "
            "redirect_uri, scopes, auth_time, created_at, expires_at, used_at) "
            "VALUES (5, ?, 7, 3, 'https://rp.example/cb', 'openid email', 1, 1, 61, 30)",
            ("c" * 64,),
        )
        conn.execute(
            "INSERT INTO oidc_access_token (token_digest, client_id, user_id, code_id, scopes, "
            "created_at, expires_at) VALUES (?, 7, 3, 5, 'openid email', 30, ?)",
            (hashlib.sha256(token.encode()).hexdigest(), far),
        )
        conn.execute(
            "INSERT INTO oidc_consent (user_id, client_id, scopes, granted_at) "
            "VALUES (3, 7, 'openid email', 30)"
        )
    try:
        upgraded = Storage(f"sqlite:///{path}")
        assert upgraded.upgrade() == (1, LATEST)
        db = upgraded.database
        assert db.pragma("foreign_keys") == 1  # enforced again after the upgrade
        references = db.execute_sql("PRAGMA foreign_key_list(oidc_access_token)").fetchall()
        assert {(row[2], row[3], row[6]) for row in references} >= {
            ("oidc_client", "client_id", "CASCADE")
        }
        grant = upgraded.grants.access_token(token)
        assert grant is not None
        assert (grant.client_id, grant.user.subject, grant.scopes) == (
            "c1",
            "sub1",
            ("openid", "email"),
        )
        assert grant.expires_at == far
        assert upgraded.grants.consented_scopes(3, 7) == frozenset({"openid", "email"})
        code = upgraded.grants.code("unknown")
        assert code is None
        assert upgraded.database.execute_sql(
            "SELECT used_at FROM oidc_authorization_code WHERE id = 5"
        ).fetchall() == [(30,)]

        admin = ClientAdmin(upgraded)
        updated = admin.update("c1", {"access_token_ttl": 120}, "admin@example.com")
        assert updated.access_token_ttl == 120 and updated.name == "Old app"
        secret = admin.reset_secret("c1", "admin@example.com", grace_seconds=60)
        client = admin.get("c1")
        assert client.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
        assert client.previous_secret_digest == hashlib.sha256(b"old secret").hexdigest()
        assert [(client, used) for client, used in admin.search()] == [(client, 30)]
        admin.delete("c1", "admin@example.com")
        assert upgraded.grants.access_token(token) is None
        for table in ("oidc_access_token", "oidc_authorization_code", "oidc_consent"):
            count = upgraded.database.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert count == 0, table
        assert [entry.action for entry in admin.audit_log()] == [
            "client.delete",
            "client.reset_secret",
            "client.update",
        ]
        upgraded.close()
    finally:
        database_proxy.initialize(storage.database)


def test_upgrade_to_refresh_tokens_and_grant_types(tmp_path: Path, storage: Storage) -> None:
    """Schema 5: old clients keep only the code grant; an old token belongs to its code's
    family; machine tokens without a user and refresh tokens can be stored."""
    path = tmp_path / "v1-v5.db"
    token = "an-access-token-issued-by-0.1.0"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA.read_text())
        conn.execute("INSERT INTO oidc_schema_version (version) VALUES (1)")
        conn.execute(
            "INSERT INTO oidc_client (id, client_id, secret_digest, name, description, "
            "client_uri, logo_uri, redirect_uris, allowed_scopes, require_pkce, skip_consent, "
            "created_at, updated_at) VALUES (7, 'c1', ?, 'Old app', '', '', '', "
            "'https://rp.example/cb', 'openid email', 0, 0, 10, 20)",
            ("a" * 64,),
        )
        conn.execute(
            "INSERT INTO oidc_user (id, subject, email, password_hash, name, given_name, "
            "family_name, preferred_username, locale, email_verified, is_admin, created_at, "
            "updated_at) VALUES (3, 'sub1', 'old@example.com', 'x', '', '', '', '', '', 0, 0, "
            "1, 1)"
        )
        conn.execute(
            "INSERT INTO oidc_authorization_code (id, code_digest, client_id, user_id, "
            "redirect_uri, scopes, auth_time, created_at, expires_at, used_at) "
            "VALUES (5, ?, 7, 3, 'https://rp.example/cb', 'openid email', 1, 1, 61, 30)",
            ("c" * 64,),
        )
        conn.execute(
            "INSERT INTO oidc_access_token (token_digest, client_id, user_id, code_id, scopes, "
            "created_at, expires_at) VALUES (?, 7, 3, 5, 'openid email', 30, ?)",
            (hashlib.sha256(token.encode()).hexdigest(), int(time.time()) + 3600),
        )
    try:
        upgraded = Storage(f"sqlite:///{path}")
        upgraded.upgrade()
        db = upgraded.database
        client = upgraded.clients.by_client_id("c1")
        assert client is not None and client.grant_types == ("authorization_code",)
        assert client.access_token_format == "opaque"  # schema 7: old clients stay opaque
        indexes = {row[1] for row in db.execute_sql("PRAGMA index_list(oidc_access_token)")}
        assert "oidc_access_token_grant_id" in indexes
        info = upgraded.grants.token_info(token, None)
        assert info is not None and info.subject == "sub1"

        assert upgraded.grants.revoke_code_tokens(5) == 1  # its code's family, by code_id
        assert upgraded.grants.access_token(token) is None

        upgraded.grants.issue_client_token(7, "machine-token", ("email",), 60)
        machine = upgraded.grants.token_info("machine-token", None)
        assert machine is not None and machine.subject is None and machine.client_id == "c1"
        db.execute_sql(
            "INSERT INTO oidc_refresh_token (token_digest, client_id, user_id, grant_id, scopes, "
            "auth_time, created_at, expires_at, absolute_expires_at) "
            "VALUES (?, 7, 3, 5, 'openid offline_access', 1, 1, ?, ?)",
            (hashlib.sha256(b"rt").hexdigest(), int(time.time()) + 60, int(time.time()) + 90),
        )
        stored = upgraded.grants.refresh_token("rt")
        assert stored is not None and stored.live(time.time()) and stored.grant_id == 5
        upgraded.close()
    finally:
        database_proxy.initialize(storage.database)
