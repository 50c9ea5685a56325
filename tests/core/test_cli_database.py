"""``oidc-core migrate`` and ``oidc-core purge``; the server and the commands refuse a
database whose schema is older (run ``migrate``) or newer than the code."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oidc_core import cli
from oidc_core.storage import Storage
from oidc_core.storage.migrations import LATEST
from oidc_core.storage.models import ALL_MODELS
from tests.core.test_cli import Cli
from tests.core.test_migrations import V1_SCHEMA


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(tmp_path / "cli.db", monkeypatch)


def _v1_database(path: Path) -> None:
    """The 0.1.0 schema with a client, a user and a consent in it."""
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA.read_text())
        conn.execute("INSERT INTO oidc_schema_version (version) VALUES (1)")
        conn.execute(
            "INSERT INTO oidc_client (id, client_id, secret_digest, name, description, "
            "client_uri, logo_uri, redirect_uris, allowed_scopes, require_pkce, skip_consent, "
            "created_at, updated_at) VALUES (7, 'c1', ?, 'Old app', '', '', '', "
            "'https://rp.example/cb', 'openid email', 1, 0, 10, 20)",
            ("a" * 64,),
        )
        conn.execute(
            "INSERT INTO oidc_user (id, subject, email, password_hash, name, given_name, "
            "family_name, preferred_username, locale, email_verified, is_admin, created_at, "
            "updated_at) VALUES (3, 'sub1', 'old@example.com', 'x', 'Old', '', '', '', '', 1, "
            "0, 1, 1)"
        )
        conn.execute(
            "INSERT INTO oidc_consent (user_id, client_id, scopes, granted_at) "
            "VALUES (3, 7, 'openid email', 30)"
        )


def test_migrate_upgrades_a_v1_database_losing_nothing_and_creates_no_key(
    run: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    _v1_database(run.path)
    result = run("migrate", capsys=capsys)
    assert result.code == 0
    assert result.out.strip() == f"schema: version 1 -> {LATEST}"
    assert run.rows("SELECT MAX(version) FROM oidc_schema_version") == [(LATEST,)]
    assert run.rows("SELECT client_id, name, require_pkce, grant_types FROM oidc_client") == [
        ("c1", "Old app", 1, "authorization_code")
    ]
    assert run.rows("SELECT subject, email FROM oidc_user") == [("sub1", "old@example.com")]
    assert run.rows("SELECT scopes, first_granted_at, expires_at FROM oidc_consent") == [
        ("openid email", 30, None)
    ]
    assert run.rows("SELECT COUNT(*) FROM oidc_signing_key") == [(0,)]

    again = run("migrate", "--json", capsys=capsys)
    assert again.code == 0 and json.loads(again.out) == {"before": LATEST, "after": LATEST}


def test_commands_on_an_old_schema_say_to_run_migrate(
    run: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    _v1_database(run.path)
    result = run("purge", "--dry-run", capsys=capsys)
    assert result.code == (
        f"the database schema is version 1, older than this oidc-core's ({LATEST}): "
        "run `oidc-core migrate`"
    )
    assert run.rows("SELECT MAX(version) FROM oidc_schema_version") == [(1,)]


def test_migrate_and_init_refuse_a_newer_schema(
    run: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("migrate", capsys=capsys).code == 0
    with sqlite3.connect(run.path) as conn:
        conn.execute("INSERT INTO oidc_schema_version (version) VALUES (?)", (LATEST + 1,))
    for command in ("migrate", "init", "purge"):
        result = run(command, capsys=capsys)
        assert isinstance(result.code, str) and result.code != "0", command
        assert f"schema is version {LATEST + 1}, newer than this oidc-core knows" in result.code
        assert "upgrade oidc-core" in result.code
    assert run.rows("SELECT COUNT(*) FROM oidc_signing_key") == [(0,)]


def test_the_server_refuses_to_start_on_an_old_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v1_database(path)
    env = {"OIDC_ISSUER": "https://op.example", "OIDC_DATABASE_URL": f"sqlite:///{path}"}
    result = subprocess.run(
        [sys.executable, "-c", "from oidc_adapters.standalone import create_app; create_app()"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "older than this oidc-core's" in result.stderr
    assert "run `oidc-core migrate`" in result.stderr
    assert "Traceback" not in result.stderr


def test_purge_dry_run_counts_and_purge_deletes(
    run: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("migrate", capsys=capsys).code == 0
    with sqlite3.connect(run.path) as conn:
        conn.executemany(
            "INSERT INTO oidc_login_throttle (key, failures, last_failure_at, locked_until) "
            "VALUES (?, 1, ?, 0)",
            [(f"ip:192.0.2.{n}", 1000 + n) for n in range(5)],
        )
    dry = run("purge", "--dry-run", "--json", capsys=capsys)
    assert dry.code == 0
    report = json.loads(dry.out)
    assert report["dry_run"] is True and report["tables"]["oidc_login_throttle"] == 5
    assert run.rows("SELECT COUNT(*) FROM oidc_login_throttle") == [(5,)]

    done = run("purge", "--batch-size", "2", capsys=capsys)
    assert done.code == 0
    assert "oidc_login_throttle: deleted 5" in done.out and "total: deleted 5" in done.out
    assert run.rows("SELECT COUNT(*) FROM oidc_login_throttle") == [(0,)]


@pytest.mark.parametrize("option", [("--grace", "-1"), ("--batch-size", "0")])
def test_purge_refuses_bad_options(
    capsys: pytest.CaptureFixture[str], option: tuple[str, str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main(["purge", *option])
    assert exit.value.code == 2
    assert f"{option[0]}: must" in capsys.readouterr().err


V1_POSTGRESQL = V1_SCHEMA.with_name("schema_v1_postgresql.sql")


def test_migrate_upgrades_a_v1_postgresql_database_losing_nothing(
    run: Cli, capsys: pytest.CaptureFixture[str], database_url: str, storage: Storage
) -> None:
    """The test database is rebuilt at schema 1 (0.1.0's tables, on PostgreSQL) with data,
    upgraded by ``oidc-core migrate``, and given back at the newest schema with its keys."""
    if not database_url.startswith("postgres"):
        pytest.skip("PostgreSQL's upgrade: set OIDC_TEST_DATABASE_URL to a PostgreSQL URL")
    db = storage.database
    key_columns = "kid, alg, private_pem, state, created_at, activated_at, retired_at"
    keys = db.execute_sql(f"SELECT {key_columns} FROM oidc_signing_key").fetchall()
    token = "an-access-token-issued-by-0.1.0"
    try:
        db.drop_tables(ALL_MODELS, cascade=True, safe=True)
        ddl = "\n".join(
            line for line in V1_POSTGRESQL.read_text().splitlines() if not line.startswith("--")
        )
        for statement in ddl.split(";\n"):
            if statement.strip():
                db.execute_sql(statement)
        for sql, params in (
            ("INSERT INTO oidc_schema_version (version) VALUES (1)", ()),
            (
                "INSERT INTO oidc_client (id, client_id, secret_digest, name, description, "
                "client_uri, logo_uri, redirect_uris, allowed_scopes, require_pkce, "
                "skip_consent, created_at, updated_at) VALUES (7, 'c1', %s, 'Old app', '', '', "
                "'', 'https://rp.example/cb', 'openid email', TRUE, FALSE, 10, 20)",
                ("a" * 64,),
            ),
            (
                "INSERT INTO oidc_user (id, subject, email, password_hash, name, given_name, "
                "family_name, preferred_username, locale, email_verified, is_admin, created_at, "
                "updated_at) VALUES (3, 'sub1', 'old@example.com', 'x', 'Old', '', '', '', '', "
                "TRUE, FALSE, 1, 1)",
                (),
            ),
            (
                "INSERT INTO oidc_authorization_code (id, code_digest, client_id, user_id, "
                "redirect_uri, scopes, auth_time, created_at, expires_at, used_at) "
                "VALUES (5, %s, 7, 3, 'https://rp.example/cb', 'openid email', 1, 1, 61, 30)",
                ("c" * 64,),
            ),
            (
                "INSERT INTO oidc_access_token (token_digest, client_id, user_id, code_id, "
                "scopes, created_at, expires_at) VALUES (%s, 7, 3, 5, 'openid email', 30, %s)",
                (hashlib.sha256(token.encode()).hexdigest(), int(time.time()) + 3600),
            ),
            (
                "INSERT INTO oidc_consent (user_id, client_id, scopes, granted_at) "
                "VALUES (3, 7, 'openid email', 30)",
                (),
            ),
        ):
            db.execute_sql(sql, params)
        run.monkeypatch.setenv("OIDC_DATABASE_URL", database_url)

        result = run("migrate", capsys=capsys)
        assert (result.code, result.out.strip()) == (0, f"schema: version 1 -> {LATEST}")
        rows = lambda sql: db.execute_sql(sql).fetchall()  # noqa: E731
        assert rows("SELECT MAX(version) FROM oidc_schema_version") == [(LATEST,)]
        assert rows(
            "SELECT client_id, name, require_pkce, grant_types, access_token_format, "
            "backchannel_logout_uri FROM oidc_client"
        ) == [("c1", "Old app", True, "authorization_code", "opaque", "")]
        assert rows("SELECT subject, email, external_id FROM oidc_user") == [
            ("sub1", "old@example.com", None)
        ]
        assert rows("SELECT id, used_at, sid FROM oidc_authorization_code") == [(5, 30, None)]
        assert rows("SELECT code_id, grant_id, revoked_at FROM oidc_access_token") == [
            (5, None, None)
        ]
        assert rows(
            "SELECT scopes, granted_at, first_granted_at, expires_at FROM oidc_consent"
        ) == [("openid email", 30, 30, None)]
        assert rows("SELECT COUNT(*) FROM oidc_signing_key") == [(0,)]
        grant = storage.grants.access_token(token)
        assert grant is not None and grant.user.subject == "sub1"
        assert run("migrate", capsys=capsys).out.strip().startswith(f"schema: version {LATEST}")
    finally:
        db.drop_tables(ALL_MODELS, cascade=True, safe=True)
        storage.upgrade()
        for key in keys:
            db.execute_sql(
                f"INSERT INTO oidc_signing_key ({key_columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                key,
            )
