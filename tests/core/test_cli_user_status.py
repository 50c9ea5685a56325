"""``oidc-core user suspend|activate|close|status ACCOUNT`` (docs/administration.md).

In-process (:mod:`tests.support.cli`) on a fresh SQLite file per test; what the changes
do to tokens and sessions is tested through HTTP in ``tests/flows/test_account_status.py``
(the CLI calls the same function), with one CLI run there against the suite's database.
"""

from __future__ import annotations

import json

import pytest

from tests.support.cli import Cli, _user
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run


def _status(cli: Cli, capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    result = cli("user", *argv, "--json", capsys=capsys)
    assert result.code == 0, result
    body: dict[str, object] = json.loads(result.out)
    return body


def test_suspend_activate_close_and_status(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = json.loads(_user(initialised, capsys, "carol@example.com", "--json").out)["sub"]
    assert _status(initialised, capsys, "status", "carol@example.com")["status"] == "active"
    suspended = _status(initialised, capsys, "suspend", "Carol@Example.com")
    assert (suspended["status"], suspended["changed"], suspended["sub"]) == ("suspended", True, sub)
    assert _status(initialised, capsys, "suspend", sub)["changed"] is False
    assert _status(initialised, capsys, "close", sub)["status"] == "closed"
    assert _status(initialised, capsys, "activate", sub)["status"] == "active"
    assert initialised.rows("SELECT status FROM oidc_user") == [("active",)]
    audit = initialised.rows(
        "SELECT actor, action, target, details FROM oidc_audit_log WHERE action = 'user.status'"
    )
    assert [(action, target, json.loads(str(d))["to"]) for _, action, target, d in audit] == [
        ("user.status", "carol@example.com", "suspended"),
        ("user.status", "carol@example.com", "closed"),
        ("user.status", "carol@example.com", "active"),
    ]
    assert all(str(actor).startswith("cli:") for actor, *_ in audit)


def test_the_plain_output_says_the_status_and_since_when(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    _user(initialised, capsys, "dave@example.com")
    assert initialised("user", "status", "dave@example.com", capsys=capsys).out == (
        "dave@example.com is active\n"
    )
    out = initialised("user", "suspend", "dave@example.com", capsys=capsys).out
    assert out.startswith("dave@example.com is suspended since ") and out.endswith(" UTC\n")
    again = initialised("user", "suspend", "dave@example.com", capsys=capsys).out
    assert again.endswith(" UTC (unchanged)\n")


@pytest.mark.parametrize("action", ["suspend", "activate", "close", "status"])
def test_an_unknown_account_is_an_error_and_changes_nothing(
    initialised: Cli, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    _user(initialised, capsys, "erin@example.com")
    for account in ("nobody@example.com", "no-such-sub"):
        result = initialised("user", action, account, capsys=capsys)
        assert result.code not in (0, None)
        assert f"no user with email or sub {account}" in str(result.code)
    assert initialised.rows("SELECT status FROM oidc_user") == [("active",)]
    assert initialised.rows("SELECT COUNT(*) FROM oidc_audit_log WHERE action = 'user.status'") == [
        (0,)
    ]


def test_the_account_argument_is_required(run: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    result = run("user", "suspend", capsys=capsys)
    assert result.code == 2
