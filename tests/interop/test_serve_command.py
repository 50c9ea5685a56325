"""``oidc-core serve`` and ``make serve`` as a developer starts them.

``make serve BIND=127.0.0.1:<port>`` (the Makefile's own recipe, on a fresh SQLite file):
the demo credentials are the last thing printed, and every URL printed and published uses
the bound port.  Without ``OIDC_ISSUER`` the issuer follows a loopback bind; a loopback
issuer set elsewhere is kept, with a warning.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.live import database_url, free_port, run_cli, serving, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]
ACCESS_LINE = re.compile(r"^\S+ \S+ INFO oidc_core\.access ")


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    """This environment without ``OIDC_*`` settings: the defaults, as a developer has."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OIDC_")}
    return {**env, "OIDC_PASSWORD_TIME_COST": "1", "OIDC_PASSWORD_MEMORY_COST": "1024", **extra}


@contextmanager
def make_serve(tmp: Path, port: int) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``make serve`` in ``tmp`` (its ``var/``) with this virtualenv, already installed."""
    venv = Path(sys.executable).parent.parent
    command = [
        "make",
        "--no-print-directory",
        "-f",
        str(ROOT / "Makefile"),
        "-o",
        str(venv / "bin" / ".installed"),  # installed: not again
        f"VENV={venv}",
        f"BIND=127.0.0.1:{port}",
        "serve",
    ]
    log = tmp / "make-serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=tmp,
            env=environment(tmp),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # make, and gunicorn under it
        process.wait(timeout=20)


def test_make_serve_prints_the_credentials_last_with_the_issuer_of_its_bind(
    tmp_path: Path,
) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with make_serve(tmp_path, port) as (process, log):
        discovery = wait_for(issuer + "/.well-known/openid-configuration", process, log)
        time.sleep(1)  # one worker answered; the others finish booting meanwhile
        assert requests.get(issuer + "/health/ready", timeout=10).status_code == 200
        printed = log.read_text(errors="replace")  # before make reports its end
    assert discovery.json()["issuer"] == issuer
    assert "Traceback" not in printed and "would be ignored" not in printed
    lines = [line for line in printed.splitlines() if line.strip()]
    own = [line for line in lines if not ACCESS_LINE.match(line)]
    assert own[-1].startswith("(the demo password and secret change"), printed
    credentials = own[own.index(next(line for line in own if line.startswith("demo user"))) :]
    assert f"try:          {issuer}/.well-known/openid-configuration" in credentials
    assert f"admin console {issuer}/admin/" in credentials
    assert ":8000" not in printed


def test_the_issuer_follows_a_loopback_bind(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = environment(tmp_path, OIDC_DATABASE_URL=database_url(tmp_path))
    run_cli(env, "init")
    port = free_port()
    log = tmp_path / "server.log"
    with serving(env, port, log, request) as (discovery, _):
        assert discovery["issuer"] == f"http://127.0.0.1:{port}"
        assert discovery["token_endpoint"] == f"http://127.0.0.1:{port}/token"
    assert "warning" not in log.read_text()


def test_a_loopback_issuer_set_elsewhere_is_kept_with_a_warning(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}"
    env = environment(tmp_path, OIDC_DATABASE_URL=database_url(tmp_path), OIDC_ISSUER=elsewhere)
    run_cli(env, "init")
    port = free_port()
    log = tmp_path / "server.log"
    with serving(env, port, log, request) as (discovery, _):
        assert discovery["issuer"] == elsewhere
    assert log.read_text().startswith(
        f"warning: the issuer {elsewhere} (OIDC_ISSUER) is not where this server listens "
        f"(http://127.0.0.1:{port}): discovery and every redirect will point there\n"
    )


def test_a_public_issuer_behind_a_proxy_is_kept_silently(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    public = "https://login.example.com"
    env = environment(tmp_path, OIDC_DATABASE_URL=database_url(tmp_path), OIDC_ISSUER=public)
    run_cli(env, "init")
    port = free_port()
    log = tmp_path / "server.log"
    with serving(env, port, log, request) as (discovery, _):
        assert discovery["issuer"] == public
    assert "warning" not in log.read_text()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("OIDC_BRAND_ACCENT_COLOUR", "#777777", "brand_accent_colour: #777777: contrast with"),
        ("OIDC_BRAND_LOGO", "/no/such/logo.png", "brand_logo: cannot read /no/such/logo.png"),
        ("OIDC_TEMPLATES_DIR", "overrides", "templates_dir: login.html line 1: "),
    ],
)
def test_a_brand_setting_read_at_start_up_stops_serve_without_a_traceback(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    """The brand's colour and files and the template overrides are checked when the
    provider is built: ``serve`` does so before it starts gunicorn, so the operator reads
    one line, not a worker's traceback and gunicorn's "Worker failed to boot"."""
    if setting == "OIDC_TEMPLATES_DIR":  # an override with a syntax error
        (tmp_path / value).mkdir()
        (tmp_path / value / "login.html").write_text("{% if %}")
        value = str(tmp_path / value)
    env = environment(tmp_path, OIDC_DATABASE_URL=database_url(tmp_path))
    run_cli(env, "init")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "oidc-core"),
            "serve",
            "--bind",
            f"127.0.0.1:{free_port()}",
        ],
        env={**env, setting: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.startswith(f"configuration error: {message}"), result.stderr
    assert "Traceback" not in result.stderr and "gunicorn" not in result.stderr.lower()


@contextmanager
def serve_with(tmp: Path, *options: str) -> Iterator[tuple[int, int]]:
    """``oidc-core serve`` with ``options`` on a fresh SQLite file: (port, gunicorn's pid)."""
    env = environment(tmp, OIDC_DATABASE_URL=database_url(tmp))
    run_cli(env, "init")
    port = free_port()
    log = tmp / "server.log"
    command = [str(Path(sys.executable).parent / "oidc-core"), "serve"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{port}", "--workers", "2", *options],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration", process, log)
        yield port, process.pid
    finally:
        stop(process)
    assert "Traceback" not in log.read_text(errors="replace")


def gunicorn_argv(pid: int) -> list[str]:
    """The command line gunicorn runs with (``serve`` replaced itself with it)."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def answers_on_one_connection(port: int, count: int) -> list[str | None]:
    """``count`` requests on one connection; the ``Connection`` header of each answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = []
    try:
        for _ in range(count):
            connection.request("GET", "/.well-known/openid-configuration")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            headers.append(response.getheader("Connection"))
            if response.will_close:
                break
    finally:
        connection.close()
    return headers


def test_serve_keeps_connections_alive_with_gthread_by_default(tmp_path: Path) -> None:
    """The default setup (docs/deployment.md): gthread workers, two threads each, an idle
    connection kept for 5 s; a client's second request reuses its connection."""
    with serve_with(tmp_path) as (port, pid):
        argv = gunicorn_argv(pid)
        assert option(argv, "--worker-class") == "gthread"
        assert option(argv, "--threads") == "2"
        assert option(argv, "--keep-alive") == "5"
        assert option(argv, "--workers") == "2"
        # the other options of serve stay: metrics hooks, no control socket, limits
        assert option(argv, "--config") == "python:oidc_adapters.gunicorn_metrics"
        assert "--no-control-socket" in argv and "--limit-request-line" in argv
        assert "--access-logfile" not in argv
        assert answers_on_one_connection(port, 3) == ["keep-alive"] * 3


def test_serve_with_sync_workers_closes_every_connection(tmp_path: Path) -> None:
    with serve_with(tmp_path, "--worker-class", "sync", "--threads", "4") as (port, pid):
        argv = gunicorn_argv(pid)
        assert option(argv, "--worker-class") == "sync"
        assert option(argv, "--threads") is None  # sync would turn into gthread with > 1
        assert option(argv, "--keep-alive") is None
        assert answers_on_one_connection(port, 3) == ["close"]
