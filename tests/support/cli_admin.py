"""Helpers for ``test_cli_admin_*.py``: the ``cli`` fixture (an initialised database, an
operator login name) and readers of the CLI's output and of the database file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from tests.support.cli import Cli, Result

OPERATOR = "ops-carol"
ACTOR = f"cli:{OPERATOR}"
CB = "https://rp.example/cb"

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def cli(initialised: Cli) -> Cli:
    initialised.monkeypatch.setenv("LOGNAME", OPERATOR)
    return initialised


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def ok(result: Result) -> str:
    assert result.code == 0, result
    return result.out


def refused(result: Result, prefix: str) -> str:
    """A refusal: non-zero exit with one line naming the problem, nothing on stdout."""
    assert isinstance(result.code, str), result
    assert result.code.startswith(prefix), result.code
    assert "\n" not in result.code
    assert "Traceback" not in result.code
    assert result.out == ""
    return result.code


def create(cli: Cli, capsys: Capsys, *extra: str, name: str = "Test RP") -> dict[str, Any]:
    out = ok(cli("client", "create", "--name", name, "--redirect-uri", CB, "--json", *extra,
                 capsys=capsys))  # fmt: skip
    created: dict[str, Any] = json.loads(out)
    return created


def audit(cli: Cli) -> list[tuple[Any, ...]]:
    return cli.rows("SELECT actor, action, target, details FROM oidc_audit_log ORDER BY id")


@contextlib.contextmanager
def storage_of(cli: Cli) -> Iterator[Storage]:
    """The provider's storage on the CLI's database file; the model binding given back."""
    before = database_proxy.obj
    storage = Storage(f"sqlite:///{cli.path}")
    try:
        yield storage
    finally:
        storage.close()
        if before is not None:
            database_proxy.initialize(before)
