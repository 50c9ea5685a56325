"""``oidc-core keys list|rotate|retire-expired`` (SECURITY-CHECKLIST R-KY-1, T-76).

In-process, on a fresh SQLite file per test, like ``test_cli_*.py``; assertions read the
database with :mod:`sqlite3`.
"""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from tests.support.cli import Cli, initialised, run  # noqa: F401 - fixtures

Capsys = pytest.CaptureFixture[str]


def _keys(cli: Cli) -> dict[str, list[tuple[object, ...]]]:
    rows = cli.rows("SELECT alg, state, kid, retired_at FROM oidc_signing_key ORDER BY id")
    by_state: dict[str, list[tuple[object, ...]]] = {}
    for alg, state, kid, retired_at in rows:
        by_state.setdefault(state, []).append((alg, kid, retired_at))
    return by_state


def _rotate(cli: Cli, capsys: Capsys, *extra: str) -> tuple[int | str | None, dict[str, object]]:
    result = cli("keys", "rotate", "--json", *extra, capsys=capsys)
    return result.code, json.loads(result.out)


def test_list_shows_the_current_key_without_private_parts(
    initialised: Cli,  # noqa: F811
    capsys: Capsys,
) -> None:
    result = initialised("keys", "list", "--json", capsys=capsys)
    assert result.code == 0
    (key,) = json.loads(result.out)
    assert key["alg"] == "RS256" and key["state"] == "current" and key["published"] is True
    assert "PRIVATE" not in result.out and "private" not in result.out


def test_rotate_publishes_then_promotes_after_the_cache_interval(
    initialised: Cli,  # noqa: F811
    capsys: Capsys,
) -> None:
    (first,) = _keys(initialised)["current"]
    code, out = _rotate(initialised, capsys)
    assert code == 0
    (step,) = out["rotated"]  # type: ignore[misc]
    assert step["promoted"] is None  # nothing signs with the new key yet
    (upcoming,) = _keys(initialised)["next"]
    assert step["published"] == upcoming[1]
    assert _keys(initialised)["current"] == [first]

    # Published just now: other processes may not have it (key_cache_seconds = 300).
    code, out = _rotate(initialised, capsys)
    assert code == 1 and "published" in out["refused"][0]["reason"]  # type: ignore[index]
    assert _keys(initialised)["next"] == [upcoming]

    initialised.monkeypatch.setenv("OIDC_KEY_CACHE_SECONDS", "0")
    code, out = _rotate(initialised, capsys)
    assert code == 0
    keys = _keys(initialised)
    assert [kid for _, kid, _ in keys["current"]] == [upcoming[1]]
    assert [kid for _, kid, _ in keys["retired"]] == [first[1]]
    assert keys["retired"][0][2] is not None  # retired_at
    assert len(keys["next"]) == 1 and keys["next"][0][1] not in (first[1], upcoming[1])


def test_rotate_force_promotes_at_once(initialised: Cli, capsys: Capsys) -> None:  # noqa: F811
    _rotate(initialised, capsys)
    code, out = _rotate(initialised, capsys, "--force")
    assert code == 0 and out["rotated"][0]["promoted"]  # type: ignore[index]
    assert {state: len(rows) for state, rows in _keys(initialised).items()} == {
        "current": 1,
        "next": 1,
        "retired": 1,
    }


def test_rotate_es256_creates_that_algorithm(initialised: Cli, capsys: Capsys) -> None:  # noqa: F811
    code, out = _rotate(initialised, capsys, "--alg", "ES256")
    assert code == 0
    current = {alg for alg, _, _ in _keys(initialised)["current"]}
    assert current == {"RS256", "ES256"}
    assert out["rotated"][0]["alg"] == "ES256"  # type: ignore[index]


def test_retire_expired_deletes_only_keys_no_token_needs(
    initialised: Cli,  # noqa: F811
    capsys: Capsys,
) -> None:
    initialised.monkeypatch.setenv("OIDC_KEY_CACHE_SECONDS", "0")
    for _ in range(3):
        _rotate(initialised, capsys)
    old, recent = (kid for _, kid, _ in _keys(initialised)["retired"])
    # Retired longer ago than the longest ID token lifetime (3600 s) + the cache interval.
    with sqlite3.connect(initialised.path) as db:
        db.execute(
            "UPDATE oidc_signing_key SET retired_at = ? WHERE kid = ?",
            (int(time.time()) - 3601, old),
        )
    listed = json.loads(initialised("keys", "list", "--json", capsys=capsys).out)
    assert {k["kid"]: k["published"] for k in listed if k["state"] == "retired"} == {
        old: False,
        recent: True,
    }
    result = initialised("keys", "retire-expired", "--json", capsys=capsys)
    assert result.code == 0 and json.loads(result.out) == {"deleted": [old]}
    assert [kid for _, kid, _ in _keys(initialised)["retired"]] == [recent]
    assert {"current", "next"} <= set(_keys(initialised))


def test_retire_expired_respects_a_client_with_a_longer_id_token_lifetime(
    initialised: Cli,  # noqa: F811
    capsys: Capsys,
) -> None:
    initialised.monkeypatch.setenv("OIDC_KEY_CACHE_SECONDS", "0")
    _rotate(initialised, capsys)
    _rotate(initialised, capsys)
    ((_, retired, _),) = _keys(initialised)["retired"]
    result = initialised(
        "client", "create", "--name", "Long", "--redirect-uri", "https://rp.example/cb",
        "--id-token-ttl", "7200", "--json", capsys=capsys,
    )  # fmt: skip
    assert result.code == 0, result.out
    with sqlite3.connect(initialised.path) as db:
        db.execute(
            "UPDATE oidc_signing_key SET retired_at = ? WHERE kid = ?",
            (int(time.time()) - 3700, retired),
        )
    result = initialised("keys", "retire-expired", "--json", capsys=capsys)
    assert json.loads(result.out) == {"deleted": []}


def test_keys_commands_without_schema_say_so(run: Cli, capsys: Capsys) -> None:  # noqa: F811
    result = run("keys", "list", capsys=capsys)
    assert isinstance(result.code, str) and "oidc-core init" in result.code
