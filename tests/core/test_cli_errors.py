"""What an operator sees when the command is used wrongly or the database is missing:
messages, not tracebacks, the exit status of the installed entry point, and the help.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from oidc_core import cli
from tests.support.cli import PASSWORD, Cli, _client, _user
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run


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


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--threads", "0", "argument --threads: must be at least 1"),
        ("--keep-alive", "-5", "argument --keep-alive: must be at least 1"),
        ("--worker-class", "eventlet", "argument --worker-class: invalid choice: 'eventlet'"),
    ],
)
def test_serve_refuses_a_worker_setup_it_cannot_run(
    initialised: Cli, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    """argparse's usage error (status 2, one line on stderr) before gunicorn starts."""
    result = initialised("serve", "--bind", "127.0.0.1:0", option, value, capsys=capsys)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err


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
