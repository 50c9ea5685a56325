"""``oidc-core migrate`` and ``oidc-core purge``; the server and the commands refuse a
database whose schema is older (run ``migrate``) or newer than the code."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from oidc_core import cli
from oidc_core.storage.migrations import LATEST
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
