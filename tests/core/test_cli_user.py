"""``oidc-core user create`` and ``user unlock``.

In-process (:mod:`tests.support.cli`) on a fresh SQLite file per test; the assertions
read the database file with :mod:`sqlite3`.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from oidc_core import throttle
from tests.support.cli import PASSWORD, Cli, _user
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run

# -- user create --------------------------------------------------------------------------


def test_user_create(initialised: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    result = _user(
        initialised, capsys, "Carol@Example.com",
        "--name", "Carol C", "--given-name", "Carol", "--family-name", "C",
        "--username", "carol", "--locale", "fr-FR", "--email-verified", "--json",
    )  # fmt: skip
    assert result.code == 0
    printed = json.loads(result.out)
    assert printed["email"] == "carol@example.com"
    rows = initialised.rows(
        "SELECT subject, email, name, given_name, family_name, preferred_username, locale, "
        "email_verified, is_admin, password_hash FROM oidc_user"
    )
    assert len(rows) == 1
    subject, email, *profile, password_hash = rows[0]
    assert subject == printed["sub"]
    assert email == "carol@example.com"
    assert profile == ["Carol C", "Carol", "C", "carol", "fr-FR", 1, 0]
    assert str(password_hash).startswith("$argon2id$")
    assert PASSWORD.encode() not in initialised.raw_bytes()


def test_user_create_rejects_a_duplicate_email(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _user(initialised, capsys, "dave@example.com").code == 0
    again = _user(initialised, capsys, "DAVE@example.com", "--admin")
    assert again.code not in (0, None)
    assert "already exists" in str(again.code)
    assert "DAVE@example.com" in str(again.code)
    assert initialised.rows("SELECT email, is_admin FROM oidc_user") == [("dave@example.com", 0)]


@pytest.mark.parametrize("email", ["a@example.com,b@example.com", "Me <me@example.com>", "me"])
def test_user_create_takes_one_email_address_only(
    initialised: Cli, capsys: pytest.CaptureFixture[str], email: str
) -> None:
    """MAIL-14: an address a mail library reads as two recipients or a name is refused."""
    result = _user(initialised, capsys, email)
    assert "not one email address" in str(result.code)
    assert initialised.rows("SELECT COUNT(*) FROM oidc_user") == [(0,)]


def test_user_create_needs_a_password_on_stdin(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    without_flag = initialised("user", "create", "--email", "e@example.com", capsys=capsys)
    assert "--password-stdin" in str(without_flag.code)
    empty = initialised(
        "user", "create", "--email", "e@example.com", "--password-stdin",
        stdin="\n", capsys=capsys,
    )  # fmt: skip
    assert "--password-stdin" in str(empty.code)
    assert initialised.rows("SELECT COUNT(*) FROM oidc_user") == [(0,)]


def test_user_create_rejects_an_overlong_password(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    result = initialised(
        "user", "create", "--email", "f@example.com", "--password-stdin",
        stdin="x" * 1025 + "\n", capsys=capsys,
    )  # fmt: skip
    assert result.code == "passwords are at most 1024 bytes"
    assert initialised.rows("SELECT COUNT(*) FROM oidc_user") == [(0,)]


def test_user_unlock_clears_the_counters_of_an_email_and_audits_it(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counters are written as the provider writes them (its key functions)."""
    rows = [
        (throttle.account_key("Ann@Example.com"), 20),
        (throttle.pair_key("ann@example.com", "192.0.2.1"), 5),
        (throttle.pair_key("ann@example.com", "192.0.2.2"), 5),
        (throttle.account_key("bob@example.com"), 20),
        (throttle.address_key("192.0.2.1"), 30),
    ]
    with sqlite3.connect(initialised.path) as db:
        db.executemany(
            "INSERT INTO oidc_login_throttle (key, failures, last_failure_at, locked_until) "
            "VALUES (?, ?, 1, 4000000000)",
            rows,
        )
    result = initialised("user", "unlock", "--email", " ann@example.com", capsys=capsys)
    assert result.code == 0
    assert "3 counter(s) cleared" in result.out
    left = initialised.rows("SELECT key FROM oidc_login_throttle ORDER BY key")
    assert left == sorted([(rows[3][0],), (rows[4][0],)])
    result = initialised("user", "unlock", "--address", "192.0.2.1", capsys=capsys)
    assert "192.0.2.1: 1 counter(s) cleared" in result.out
    assert initialised.rows("SELECT key FROM oidc_login_throttle") == [(rows[3][0],)]
    audit = initialised.rows("SELECT action, target FROM oidc_audit_log ORDER BY id")
    assert audit[-2:] == [("user.unlock", "ann@example.com"), ("address.unlock", "192.0.2.1")]


def test_user_unlock_clears_the_second_factors_counter_too(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wrong codes lock the user's ``mfa:`` counter (named by the user's id): unlocking the
    email clears it, and no other user's."""
    for email in ("ann@example.com", "bob@example.com"):
        created = initialised(
            "user", "create", "--email", email, "--password-stdin",
            stdin=f"{PASSWORD}\n", capsys=capsys,
        )  # fmt: skip
        assert created.code == 0, created
    ids = {
        str(email): int(str(id_))
        for email, id_ in initialised.rows("SELECT email, id FROM oidc_user")
    }
    rows = [(throttle.mfa_key(user_id), 20) for user_id in ids.values()]
    with sqlite3.connect(initialised.path) as db:
        db.executemany(
            "INSERT INTO oidc_login_throttle (key, failures, last_failure_at, locked_until) "
            "VALUES (?, ?, 1, 4000000000)",
            rows,
        )
    result = initialised("user", "unlock", "--email", "Ann@example.com", capsys=capsys)
    assert "1 counter(s) cleared" in result.out
    left = initialised.rows("SELECT key FROM oidc_login_throttle")
    assert left == [(throttle.mfa_key(ids["bob@example.com"]),)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "give --email, --address or both"),
        (("--address", "not-an-ip"), "'not-an-ip' is not an IP address"),
    ],
)
def test_user_unlock_needs_an_email_or_an_address(
    initialised: Cli, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert initialised("user", "unlock", *argv, capsys=capsys).code == message
