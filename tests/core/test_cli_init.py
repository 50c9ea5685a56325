"""``oidc-core init``: idempotent, the ES256 key, the demo values.

In-process (:mod:`tests.support.cli`) on a fresh SQLite file per test.
"""

from __future__ import annotations

import re

import pytest

from oidc_core import cli
from oidc_core.storage.migrations import LATEST
from tests.support.cli import Cli
from tests.support.cli import run as run

# -- init ---------------------------------------------------------------------------------


def test_init_is_idempotent(run: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    first = run("init", capsys=capsys)
    assert first.code == 0
    assert f"schema: version 0 -> {LATEST}" in first.out
    assert re.search(r"signing key: created \S+", first.out)
    keys = run.rows("SELECT kid, state FROM oidc_signing_key")
    assert len(keys) == 1 and keys[0][1] == "current"

    second = run("init", capsys=capsys)
    assert second.code == 0
    assert "signing key: present" in second.out
    assert "->" not in second.out
    assert run.rows("SELECT kid, state FROM oidc_signing_key") == keys
    assert run.rows("SELECT version FROM oidc_schema_version") == [(LATEST,)]


def test_init_es256_key(run: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("init", "--key-alg", "ES256", capsys=capsys).code == 0
    assert run.rows("SELECT alg FROM oidc_signing_key") == [("ES256",)]


def _demo_values(out: str) -> dict[str, str]:
    values = {}
    for name in ("email", "password", "client_id", "client_secret"):
        match = re.search(rf"{name}: (\S+)", out)
        assert match, (name, out)
        values[name] = match.group(1)
    return values


def test_init_demo_twice(run: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    first = run("init", "--demo", capsys=capsys)
    assert first.code == 0
    one = _demo_values(first.out)
    assert one["email"] == cli.DEMO_EMAIL
    assert "https://op.example/.well-known/openid-configuration" in first.out
    assert f"client_id={one['client_id']}" in first.out
    digest_one = run.rows("SELECT secret_digest FROM oidc_client")

    second = run("init", "--demo", capsys=capsys)
    assert second.code == 0
    assert "signing key: present" in second.out
    two = _demo_values(second.out)
    assert two["client_id"] == one["client_id"]
    assert two["client_secret"] != one["client_secret"]
    assert two["password"] != one["password"]
    assert run.rows("SELECT email FROM oidc_user") == [(cli.DEMO_EMAIL,)]
    assert run.rows("SELECT client_id FROM oidc_client") == [(one["client_id"],)]
    assert run.rows("SELECT secret_digest FROM oidc_client") != digest_one
    assert len(run.rows("SELECT kid FROM oidc_signing_key")) == 1
