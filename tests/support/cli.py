"""The ``oidc-core`` command run in-process for the CLI tests: :class:`Cli` on a fresh
SQLite file per test, its fixtures ``run`` and ``initialised``, and small helpers.
"""

from __future__ import annotations

import io
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from oidc_core import cli
from oidc_core.storage.db import database_proxy

PASSWORD = "a sufficiently long password"


@dataclass
class Result:
    code: int | str | None
    out: str
    err: str = ""


class Cli:
    """Runs ``oidc-core`` in-process against one SQLite file."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.monkeypatch = monkeypatch
        self.env = {
            "OIDC_ISSUER": "https://op.example",
            "OIDC_DATABASE_URL": f"sqlite:///{path}",
            "OIDC_PASSWORD_TIME_COST": "1",
            "OIDC_PASSWORD_MEMORY_COST": "1024",
        }
        for key in list(os.environ):
            if key.startswith("OIDC_"):
                monkeypatch.delenv(key)
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)

    def __call__(self, *argv: str, stdin: str = "", capsys: pytest.CaptureFixture[str]) -> Result:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        before = database_proxy.obj
        try:
            code: int | str | None = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
        finally:
            # The CLI binds the models to its own database; close it and give the
            # binding back to whatever the rest of the session uses.
            if database_proxy.obj is not None and database_proxy.obj is not before:
                database_proxy.obj.close()
            if before is not None:
                database_proxy.initialize(before)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path) as db:
            return db.execute(sql).fetchall()

    def raw_bytes(self) -> bytes:
        """The database file and its write-ahead log, as they lie on disk."""
        return b"".join(p.read_bytes() for p in (self.path, Path(f"{self.path}-wal")) if p.exists())


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(tmp_path / "cli.db", monkeypatch)


@pytest.fixture
def initialised(run: Cli, capsys: pytest.CaptureFixture[str]) -> Cli:
    assert run("init", capsys=capsys).code == 0
    return run


def _user(run: Cli, capsys: pytest.CaptureFixture[str], email: str, *extra: str) -> Result:
    return run(
        "user", "create", "--email", email, "--password-stdin", *extra,
        stdin=PASSWORD + "\n", capsys=capsys,
    )  # fmt: skip


def _client(run: Cli, capsys: pytest.CaptureFixture[str], *uris: str, json_: bool = True) -> Result:
    argv = ["client", "create", "--name", "Test RP"]
    for uri in uris:
        argv += ["--redirect-uri", uri]
    if json_:
        argv.append("--json")
    return run(*argv, capsys=capsys)
