"""A database created by the first released schema (0.1.0) upgrades in place, losing nothing.

On the suite's database: a SQLite file, or the PostgreSQL or MySQL/MariaDB database itself
rebuilt at schema 1 (``tests/support/schema_v1.py``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oidc_core.admin.service import ClientAdmin
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from oidc_core.storage.migrations import LATEST
from oidc_core.storage.models import ALL_MODELS
from tests.support.catalog import describe
from tests.support.schema_v1 import (
    ACCESS_TOKEN,
    CLIENT_PK,
    CODE_PK,
    OLD_SECRET,
    TOKEN_EXPIRES_AT,
    USER_PK,
    dialect,
    fresh_v1,
    lent,
)


@pytest.fixture(scope="module")
def suite_database(storage: Storage) -> Iterator[None]:
    """Lent once for the module: giving it back costs a schema's creation (3 s on MariaDB)."""
    with lent(storage):
        yield


@pytest.fixture
def old(
    suite_database: None, database_url: str, storage: Storage, tmp_path: Path
) -> Iterator[Storage]:
    """A database at schema 1 with its rows, opened by today's code (not upgraded yet)."""
    opened = Storage(fresh_v1(database_url, storage, tmp_path))
    try:
        yield opened
    finally:
        opened.close()
        database_proxy.initialize(storage.database)  # the models: the suite's database again


def test_upgrade_from_v1_keeps_data(old: Storage) -> None:
    assert old.upgrade() == (1, LATEST)
    assert old.upgrade() == (LATEST, LATEST)  # idempotent
    client = old.clients.by_client_id("c1")
    assert client is not None
    assert client.name == "Old app" and client.redirect_uris == ("https://rp.example/cb",)
    assert client.allowed_scopes == frozenset({"openid", "email"}) and client.require_pkce
    assert not client.is_public and client.access_token_ttl is None
    assert client.secret_digest == hashlib.sha256(OLD_SECRET).hexdigest()
    user = old.users.by_email("old@example.com")
    assert user is not None and user.subject == "sub1" and user.email_verified
    assert {"oidc_audit_log", "oidc_admin_token"} <= set(old.database.get_tables())


def test_upgrade_from_v1_keeps_grants_and_administers_old_clients(old: Storage) -> None:
    """Tokens, codes and consents survive; the new columns and tables work on old rows."""
    assert old.upgrade() == (1, LATEST)
    db = old.database
    if old.url.startswith("sqlite"):
        assert db.pragma("foreign_keys") == 1  # enforced again after the upgrade
    references = {(fk.column, fk.dest_table) for fk in db.get_foreign_keys("oidc_access_token")}
    assert {("client_id", "oidc_client"), ("code_id", "oidc_authorization_code")} <= references
    grant = old.grants.access_token(ACCESS_TOKEN)
    assert grant is not None
    assert (grant.client_id, grant.user.subject, grant.scopes) == (
        "c1",
        "sub1",
        ("openid", "email"),
    )
    assert grant.expires_at == TOKEN_EXPIRES_AT
    assert old.grants.consented_scopes(USER_PK, CLIENT_PK) == frozenset({"openid", "email"})
    assert old.grants.code("unknown") is None
    used = db.execute_sql(f"SELECT used_at FROM oidc_authorization_code WHERE id = {CODE_PK}")
    assert list(used) == [(30,)]

    admin = ClientAdmin(old)
    updated = admin.update("c1", {"access_token_ttl": 120}, "admin@example.com")
    assert updated.access_token_ttl == 120 and updated.name == "Old app"
    secret = admin.reset_secret("c1", "admin@example.com", grace_seconds=60)
    client = admin.get("c1")
    assert client.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert client.previous_secret_digest == hashlib.sha256(OLD_SECRET).hexdigest()
    assert [(client, used) for client, used in admin.search()] == [(client, 30)]
    admin.delete("c1", "admin@example.com")  # its codes, tokens and consents go with it
    assert old.grants.access_token(ACCESS_TOKEN) is None
    for table in ("oidc_access_token", "oidc_authorization_code", "oidc_consent"):
        count = db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        assert count == 0, table
    assert [entry.action for entry in admin.audit_log()] == [
        "client.delete",
        "client.reset_secret",
        "client.update",
    ]


def test_upgrade_to_refresh_tokens_and_grant_types(old: Storage) -> None:
    """Schema 5: old clients keep only the code grant; an old token belongs to its code's
    family; machine tokens without a user and refresh tokens can be stored."""
    old.upgrade()
    db = old.database
    client = old.clients.by_client_id("c1")
    assert client is not None and client.grant_types == ("authorization_code",)
    assert client.access_token_format == "opaque"  # schema 7: old clients stay opaque
    indexes = {index.name for index in db.get_indexes("oidc_access_token")}
    assert "oidc_access_token_grant_id" in indexes
    info = old.grants.token_info(ACCESS_TOKEN, None)
    assert info is not None and info.subject == "sub1"

    assert old.grants.revoke_code_tokens(CODE_PK) == 1  # its code's family, by code_id
    assert old.grants.access_token(ACCESS_TOKEN) is None

    old.grants.issue_client_token(CLIENT_PK, "machine-token", ("email",), 60)
    machine = old.grants.token_info("machine-token", None)
    assert machine is not None and machine.subject is None and machine.client_id == "c1"
    p = db.param
    db.execute_sql(
        "INSERT INTO oidc_refresh_token (token_digest, client_id, user_id, grant_id, scopes, "
        "auth_time, created_at, expires_at, absolute_expires_at) "
        f"VALUES ({p}, {CLIENT_PK}, {USER_PK}, {CODE_PK}, 'openid offline_access', 1, 1, "
        f"{p}, {p})",
        (hashlib.sha256(b"rt").hexdigest(), int(time.time()) + 60, int(time.time()) + 90),
    )
    stored = old.grants.refresh_token("rt")
    assert stored is not None and stored.live(time.time()) and stored.grant_id == CODE_PK


def test_upgrade_to_one_time_values(old: Storage) -> None:
    """Schema 10: a value kept for a browser session, replaced by the next one of the same
    name, read once, and deleted with its session (foreign key ``ON DELETE CASCADE``)."""
    assert old.upgrade() == (1, LATEST)
    db = old.database
    indexes = {
        (tuple(index.columns), index.unique) for index in db.get_indexes("oidc_one_time_value")
    }
    assert (("session_id", "name"), True) in indexes
    _, session = old.sessions.create(60)
    old.one_time.put(session.id, "client-secret:c1", "sealed", 60)
    old.one_time.put(session.id, "client-secret:c1", "sealed again", 60)
    assert old.one_time.take(session.id, "client-secret:c1") == "sealed again"
    assert old.one_time.take(session.id, "client-secret:c1") is None
    old.one_time.put(session.id, "client-secret:c1", "left", 60)
    old.sessions.end(session.id)
    assert db.execute_sql("SELECT COUNT(*) FROM oidc_one_time_value").fetchone()[0] == 0


def test_upgraded_schema_equals_one_created_from_the_models(
    old: Storage, database_url: str, tmp_path: Path
) -> None:
    """Every column (type, nullability, default), index and foreign key (with its
    ``ON DELETE``) of a 0.1.0 database upgraded step by step is what today's models
    create, on this database's own catalog."""
    assert old.upgrade() == (1, LATEST)
    upgraded = describe(old.database)
    if dialect(database_url) == "sqlite":
        created = Storage(f"sqlite:///{tmp_path / 'new.db'}")
    else:  # the suite's database again, its tables dropped: created from the models
        old.database.drop_tables(ALL_MODELS, cascade=True, safe=True)
        created = old
    try:
        assert created.upgrade() == (0, LATEST)
        from_models = describe(created.database)
    finally:
        if created is not old:
            created.close()
    assert sorted(upgraded) == sorted(from_models)
    for table, description in from_models.items():
        for part in ("columns", "indexes", "foreign_keys"):
            assert upgraded[table][part] == description[part], (table, part)


def test_upgrade_to_accounts_keeps_people_and_their_grants(old: Storage) -> None:
    """Schema 12: existing accounts are active with their verified email kept, clients
    ask for no second factor, a code or refresh token written by the previous version
    (no ``amr``) still reads, and the new per-user tables follow the user's deletion."""
    assert old.upgrade() == (1, LATEST)
    db = old.database
    user = old.users.by_email("old@example.com")
    assert user is not None and user.subject == "sub1" and user.email_verified
    assert db.execute_sql(
        f"SELECT status, status_changed_at FROM oidc_user WHERE id = {USER_PK}"
    ).fetchone() == ("active", None)
    require_mfa = db.execute_sql(
        f"SELECT require_mfa FROM oidc_client WHERE id = {CLIENT_PK}"
    ).fetchone()[0]
    assert not require_mfa
    assert db.execute_sql(
        f"SELECT amr, acr, used_at FROM oidc_authorization_code WHERE id = {CODE_PK}"
    ).fetchone() == (None, None, 30)
    info = old.grants.token_info(ACCESS_TOKEN, None)
    assert info is not None and info.subject == "sub1"
    p = db.param
    now = int(time.time())
    for statement, values in (
        (
            "INSERT INTO oidc_totp_credential (user_id, secret, created_at, last_step) "
            f"VALUES ({p}, {p}, {p}, 0)",
            (USER_PK, "JBSWY3DPEHPK3PXP", now),
        ),
        (
            "INSERT INTO oidc_recovery_code (user_id, code_digest, created_at) "
            f"VALUES ({p}, {p}, {p})",
            (USER_PK, "d" * 64, now),
        ),
        (
            "INSERT INTO oidc_webauthn_credential (user_id, credential_id_digest, "
            "credential_id, public_key, sign_count, name, transports, aaguid, passwordless, "
            f"created_at) VALUES ({p}, {p}, 'id', 'key', 0, 'Key', '', '', {p}, {p})",
            (USER_PK, "e" * 64, False, now),
        ),
        (
            "INSERT INTO oidc_account_link (token_digest, user_id, purpose, email, "
            f"created_at, expires_at) VALUES ({p}, {p}, 'reset', '', {p}, {p})",
            ("f" * 64, USER_PK, now, now + 60),
        ),
    ):
        db.execute_sql(statement, values)
    with db.atomic():  # the foreign keys' ON DELETE CASCADE (on SQLite too: a pragma)
        db.execute_sql(f"DELETE FROM oidc_user WHERE id = {USER_PK}")
    for table in (
        "oidc_totp_credential",
        "oidc_recovery_code",
        "oidc_webauthn_credential",
        "oidc_account_link",
    ):
        assert db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


def test_upgrade_to_registration_keeps_tokens_as_admin_and_clients_public(
    old: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 13: an admin API token made before it keeps every power (``admin``), an
    existing client stays public (its users' ``sub`` unchanged), no client has a
    registration access token, and the database gets one pairwise salt."""
    with monkeypatch.context() as at_12:
        at_12.setattr("oidc_core.storage.schema.LATEST", 12)
        assert old.upgrade() == (1, 12)
    db = old.database
    p = db.param
    db.execute_sql(
        "INSERT INTO oidc_admin_token (token_digest, name, created_by, created_at) "
        f"VALUES ({p}, 'old script', 'cli', {p})",
        ("a" * 64, int(time.time())),
    )
    assert old.upgrade() == (12, LATEST)
    assert list(db.execute_sql("SELECT scopes FROM oidc_admin_token").fetchall()) == [("admin",)]
    client = old.clients.by_client_id("c1")
    assert client is not None
    assert (client.subject_type, client.sector_identifier) == ("public", "")
    assert client.registration_token_digest is None and client.initial_access_token_id is None
    info = old.grants.token_info(ACCESS_TOKEN, None)
    assert info is not None and info.subject == "sub1"
    salts = list(db.execute_sql("SELECT name, value FROM oidc_provider_secret").fetchall())
    assert [name for name, _ in salts] == ["pairwise_salt"] and len(salts[0][1]) >= 43
    # A process still on 0.5 (a rolling upgrade) inserts without the new columns.
    now = int(time.time())
    db.execute_sql(
        "INSERT INTO oidc_admin_token (token_digest, name, created_by, created_at) "
        f"VALUES ({p}, 'made by 0.5', 'cli', {p})",
        ("b" * 64, now),
    )
    db.execute_sql(
        "INSERT INTO oidc_client (client_id, secret_digest, name, description, client_uri, "
        "logo_uri, redirect_uris, allowed_scopes, require_pkce, skip_consent, created_at, "
        "updated_at, is_public, grant_types, post_logout_redirect_uris, access_token_format, "
        "backchannel_logout_uri, backchannel_logout_session_required, require_mfa) VALUES "
        f"('c05', {p}, 'Made by 0.5', '', '', '', 'https://rp.example/cb', 'openid', "
        f"{p}, {p}, {p}, {p}, {p}, 'authorization_code', '', 'opaque', '', {p}, {p})",
        ("c" * 64, False, False, now, now, False, False, False),
    )
    assert old.admin_tokens.all()[-1].scopes == ("admin",)
    made = old.clients.by_client_id("c05")
    assert made is not None and made.subject_type == "public" and made.policy_uri == ""
