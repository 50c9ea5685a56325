"""A database created by the first released schema (0.1.0) upgrades in place, losing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
