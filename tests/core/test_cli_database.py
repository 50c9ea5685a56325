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
from oidc_core.storage import Storage
from oidc_core.storage.migrations import LATEST
from tests.support.cli import Cli
from tests.support.schema_v1 import ACCESS_TOKEN, fresh_v1, lent, v1_sqlite


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(tmp_path / "cli.db", monkeypatch)


def test_migrate_upgrades_a_v1_database_losing_nothing_and_creates_no_key(
    run: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    v1_sqlite(run.path)
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
    v1_sqlite(run.path)
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
    v1_sqlite(path)
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


def test_migrate_upgrades_a_v1_server_database_losing_nothing(
    run: Cli, capsys: pytest.CaptureFixture[str], database_url: str, storage: Storage
) -> None:
    """The suite's PostgreSQL or MySQL database is rebuilt at schema 1 with data, upgraded
    by ``oidc-core migrate``, and given back at the newest schema with its keys."""
    if database_url.startswith("sqlite"):
        pytest.skip("on SQLite: the test above; set OIDC_TEST_DATABASE_URL to a server's URL")
    with lent(storage):
        run.monkeypatch.setenv("OIDC_DATABASE_URL", fresh_v1(database_url, storage, run.path))
        result = run("migrate", capsys=capsys)
        assert (result.code, result.out.strip()) == (0, f"schema: version 1 -> {LATEST}")
        db = storage.database
        rows = lambda sql: [tuple(row) for row in db.execute_sql(sql)]  # noqa: E731
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
        grant = storage.grants.access_token(ACCESS_TOKEN)
        assert grant is not None and grant.user.subject == "sub1"
        assert run("migrate", capsys=capsys).out.strip().startswith(f"schema: version {LATEST}")
