"""The ``oidc-core`` command: init, user create, client create.

Most tests call :func:`oidc_core.cli.main` in-process with ``OIDC_*`` variables set, on a
fresh SQLite file per test; one test runs the installed entry point to check what an
operator sees (exit status, message on stderr, no traceback).  The assertions read the
database file with :mod:`sqlite3`, not through the provider's storage.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from oidc_core import cli, throttle
from oidc_core.storage.db import database_proxy
from oidc_core.storage.migrations import LATEST

PASSWORD = "a sufficiently long password"


@dataclass
class Result:
    code: int | str | None
    out: str


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
        return Result(code, capsys.readouterr().out)

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


def test_commands_before_init_say_so(run: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    user = _user(run, capsys, "g@example.com")
    assert "oidc-core init" in str(user.code)
    client = _client(run, capsys, "https://rp.example/cb")
    assert "oidc-core init" in str(client.code)


@pytest.mark.parametrize("tls", [("--certfile", "server.pem"), ("--keyfile", "server.key")])
def test_serve_needs_both_certfile_and_keyfile(
    initialised: Cli, capsys: pytest.CaptureFixture[str], tls: tuple[str, str]
) -> None:
    result = initialised("serve", "--bind", "127.0.0.1:0", *tls, capsys=capsys)
    assert result.code == "serve: --certfile and --keyfile go together"


def test_configuration_error_is_a_message(run: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    run.monkeypatch.setenv("OIDC_ISSUER", "http://op.example")
    result = run("init", capsys=capsys)
    assert str(result.code).startswith("configuration error: OIDC_ISSUER:")
    run.monkeypatch.setenv("OIDC_ISSUER", "https://op.example")
    run.monkeypatch.setenv("OIDC_CODE_TTL", "soon")
    result = run("init", capsys=capsys)
    assert "OIDC_CODE_TTL: expected an integer" in str(result.code)
    assert not run.path.exists()


def test_unreachable_database_is_a_message(
    run: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run.monkeypatch.setenv("OIDC_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/op.db")
    for argv in (["init"], ["client", "create", "--name", "X", "--redirect-uri", "https://a.b/c"]):
        result = run(*argv, capsys=capsys)
        assert result.code == "database error: unable to open database file", argv
    assert not (tmp_path / "missing").exists()


def test_entry_point_exit_status_and_message(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    """What an operator sees: status 1, one line on stderr, no traceback."""
    assert _user(initialised, capsys, "h@example.com").code == 0
    oidc_core = str(Path(sys.executable).parent / "oidc-core")
    result = subprocess.run(
        [oidc_core, "user", "create", "--email", "h@example.com", "--password-stdin"],
        input=PASSWORD + "\n",
        env={**os.environ, **initialised.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "a user with email h@example.com already exists" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse shows its description as it is: no reST markup in any command's help."""
    commands = [(), ("init",), ("serve",), ("user", "create"), ("client", "create")]
    for argv in commands:
        assert not re.search(r"``|:(func|class|meth):`", _help(capsys, *argv)), argv
    assert "The oidc-core command: init, migrate" in _help(capsys)


def test_every_serve_option_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys, "serve")
    options = set(re.findall(r"\[(--[a-z-]+)", text))
    assert options >= {"--bind", "--workers", "--certfile", "--keyfile"}
    for option in options:  # each followed by words on its line in the option list
        assert re.search(rf"^  {option}( [A-Z_{{][^ ]*)?  +[a-zA-Z]", text, re.MULTILINE), option
    described = re.sub(r"\s+", " ", text)
    assert "--bind BIND HOST:PORT to listen on (default 127.0.0.1:8000)" in described
    assert "--workers WORKERS worker processes, one per core" in described


# -- client create ------------------------------------------------------------------------


def test_client_create_json(initialised: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    uris = ["https://rp.example/cb", "http://127.0.0.1:9000/cb"]
    result = _client(initialised, capsys, *uris)
    assert result.code == 0
    printed = json.loads(result.out)
    assert set(printed) == {"client_id", "client_secret"}
    rows = initialised.rows("SELECT client_id, secret_digest, redirect_uris FROM oidc_client")
    assert len(rows) == 1
    client_id, secret_digest, redirect_uris = rows[0]
    assert client_id == printed["client_id"]
    assert str(redirect_uris).split("\n") == uris

    secret = printed["client_secret"]
    assert len(secret) >= 32
    assert re.fullmatch(r"[0-9a-f]{64}", str(secret_digest))
    assert secret not in str(secret_digest)
    assert secret.encode() not in initialised.raw_bytes()


def test_client_create_plain_output_shows_the_secret_once(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _client(initialised, capsys, "https://rp.example/cb", json_=False)
    assert result.code == 0
    client_id = re.search(r"client_id:\s+(\S+)", result.out)
    secret = re.search(r"client_secret:\s+(\S+)", result.out)
    assert client_id and secret
    assert initialised.rows("SELECT client_id FROM oidc_client") == [(client_id.group(1),)]
    assert secret.group(1).encode() not in initialised.raw_bytes()


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://rp.example/cb#frag", "fragment"),
        ("http://rp.example/cb", "loopback"),
        ("javascript:alert(1)", "absolute"),
        ("/relative/callback", "absolute"),
        ("rp.example/cb", "absolute"),
        ("https://user:pw@rp.example/cb", "user information"),
        ("https://rp.example/c b", "whitespace"),
    ],
)
def test_client_create_rejects_bad_redirect_uris(
    initialised: Cli, capsys: pytest.CaptureFixture[str], uri: str, reason: str
) -> None:
    result = _client(initialised, capsys, "https://rp.example/ok", uri)
    assert isinstance(result.code, str), result
    assert result.code.startswith("invalid redirect_uris:")
    assert reason in result.code
    assert result.out == ""
    assert initialised.rows("SELECT COUNT(*) FROM oidc_client") == [(0,)]


def test_client_create_rejects_duplicate_uris_and_bad_urls(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    duplicate = _client(initialised, capsys, "https://rp.example/cb", "https://rp.example/cb")
    assert "duplicate" in str(duplicate.code)
    bad_logo = initialised(
        "client", "create", "--name", "X", "--redirect-uri", "https://rp.example/cb",
        "--logo-uri", "javascript:alert(1)", capsys=capsys,
    )  # fmt: skip
    assert str(bad_logo.code).startswith("invalid logo_uri:")
    blank_name = initialised(
        "client", "create", "--name", "  ", "--redirect-uri", "https://rp.example/cb",
        capsys=capsys,
    )  # fmt: skip
    assert str(blank_name.code).startswith("invalid client_name:")
    assert initialised.rows("SELECT COUNT(*) FROM oidc_client") == [(0,)]


def test_client_create_require_pkce(initialised: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    result = initialised(
        "client", "create", "--name", "Strict", "--redirect-uri", "https://rp.example/cb",
        "--require-pkce", "--description", "needs PKCE", "--url", "https://rp.example",
        capsys=capsys,
    )  # fmt: skip
    assert result.code == 0
    assert initialised.rows(
        "SELECT name, require_pkce, description, client_uri FROM oidc_client"
    ) == [("Strict", 1, "needs PKCE", "https://rp.example")]
