"""A real provider, ``oidc-core serve`` (gunicorn), on a free loopback port.

Set up through the CLI exactly as an operator would (``init``, ``user create``, ``client
create``), on a temporary SQLite database (PostgreSQL with ``OIDC_TEST_DATABASE_URL``).
``provider_at`` starts it and stops it; when the server is stopped its log must hold no
traceback and no 5xx.  ``through_provider`` plays a browser on its login and consent pages.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

if TYPE_CHECKING:
    from tests.support.tls import TLSFiles

BIN = Path(sys.executable).parent
OIDC_CORE = str(BIN / "oidc-core")
STARTUP_SECONDS = 15
HTTP_TIMEOUT = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(tmp: Path) -> str:
    url = os.environ.get("OIDC_TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    return f"sqlite:///{tmp / 'op.db'}"


def wait_for(
    url: str, process: subprocess.Popen[bytes], log: Path, verify: str | bool = True
) -> requests.Response:
    """GET ``url`` until it answers 200, while ``process`` runs (its log on failure);
    ``verify``: requests' (a CA file for a server with a test certificate)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            # Connections queue in the listen backlog while the workers boot: a read
            # timeout is as normal here as a refused connection.
            response = requests.get(url, timeout=(1, 5), verify=verify)
            if response.status_code == 200:
                return response
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise AssertionError(f"no answer from {url}:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class LiveProvider:
    issuer: str
    env: dict[str, str] = field(repr=False)  # the provider's environment, for the CLI
    metadata: dict[str, Any]
    server_pid: int = 0  # gunicorn's master process
    log: Path | None = None  # the server's log (stdout and stderr)
    ca_file: Path | None = None  # over https: the CA that signed the server's certificate

    @property
    def verify(self) -> str | bool:
        """requests' ``verify=`` for this server: its CA file over https."""
        return str(self.ca_file) if self.ca_file else True

    def client_env(self) -> dict[str, str]:
        """An environment for a client subprocess (Python or Node) that trusts the server."""
        env = dict(os.environ)
        if self.ca_file:
            env.update(
                REQUESTS_CA_BUNDLE=str(self.ca_file),
                SSL_CERT_FILE=str(self.ca_file),
                NODE_EXTRA_CA_CERTS=str(self.ca_file),
            )
        return env

    def worker_pids(self) -> list[int]:
        """The master's children: the worker processes serving requests now."""
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue  # a process that ended meanwhile
            if re.search(rf"^PPid:\s+{self.server_pid}$", text, re.MULTILINE):
                children.append(int(status.parent.name))
        return children

    def cli(self, *args: str, stdin: str = "") -> str:
        return run_cli(self.env, *args, stdin=stdin)

    def create_user(self, email: str, password: str, name: str) -> str:
        """A user with a verified email; its ``sub``."""
        user = json.loads(
            self.cli(
                "user",
                "create",
                "--email",
                email,
                "--password-stdin",
                "--name",
                name,
                "--email-verified",
                "--json",
                stdin=password + "\n",
            )
        )
        return str(user["sub"])

    def create_client(self, name: str, redirect_uri: str, *options: str) -> tuple[str, str]:
        """A confidential client that must use PKCE; (client_id, client_secret).

        ``options`` are more ``oidc-core client create`` options (``--grant-type`` ...).
        """
        client = json.loads(
            self.cli(
                "client",
                "create",
                "--name",
                name,
                "--redirect-uri",
                redirect_uri,
                "--require-pkce",
                "--json",
                *options,
            )
        )
        return client["client_id"], client["client_secret"]


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [OIDC_CORE, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


@contextmanager
def provider_at(
    tmp: Path,
    request: pytest.FixtureRequest,
    prefix: str = "",
    settings: dict[str, str] | None = None,
    workers: int = 2,
    tls: TLSFiles | None = None,
    host: str = "127.0.0.1",
) -> Iterator[LiveProvider]:
    """``oidc-core init`` then ``oidc-core serve`` (two workers unless ``workers``); its log
    is shown on failure.  ``host``: the issuer's host (``localhost`` for the passkey tests:
    WebAuthn refuses an IP address); the server listens on 127.0.0.1 either way.

    With a ``prefix`` (``/oidc``) the issuer has that path, and gunicorn serves the provider
    under it (``SCRIPT_NAME``).  ``settings``: more environment variables (``OIDC_*``).  With
    ``tls`` (``tests/support/tls.py``) it serves https and the issuer is
    ``https://127.0.0.1:...``.
    """
    port = free_port()
    issuer = f"{'https' if tls else 'http'}://{host}:{port}{prefix}"
    env = {
        **os.environ,
        "OIDC_ISSUER": issuer,
        "OIDC_DATABASE_URL": database_url(tmp),
        "OIDC_PASSWORD_TIME_COST": "1",
        "OIDC_PASSWORD_MEMORY_COST": "1024",
        **(settings or {}),
    }
    env.pop("OAUTHLIB_INSECURE_TRANSPORT", None)  # the server must not need it
    if prefix:
        env["SCRIPT_NAME"] = prefix
    run_cli(env, "init")
    log = tmp / "server.log"
    with serving(env, port, log, request, workers, tls) as (discovery, pid):
        yield LiveProvider(
            issuer=issuer,
            env=env,
            metadata=discovery,
            server_pid=pid,
            log=log,
            ca_file=tls.ca_file if tls else None,
        )


@contextmanager
def another_host(live: LiveProvider, tmp: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second ``oidc-core serve`` of the same issuer on the same database, on its own
    port; its base URL (``http://127.0.0.1:<port>`` plus the issuer's path)."""
    port = free_port()
    path = urlsplit(live.issuer).path
    with serving(live.env, port, tmp / f"server-{port}.log", request):
        yield f"http://127.0.0.1:{port}{path}"


@contextmanager
def serving(
    env: dict[str, str],
    port: int,
    log: Path,
    request: pytest.FixtureRequest,
    workers: int = 2,
    tls: TLSFiles | None = None,
) -> Iterator[tuple[dict[str, Any], int]]:
    """``oidc-core serve`` (``workers`` workers) on ``port``, over https with ``tls``; its
    discovery document and gunicorn's pid.

    Its log is shown on failure; once stopped, the log must hold no traceback and no 5xx.
    """
    scheme = "https" if tls else "http"
    base = f"{scheme}://127.0.0.1:{port}{env.get('SCRIPT_NAME', '')}"
    command = [OIDC_CORE, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if tls:
        command += ["--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file)]
    failed_before = request.session.testsfailed
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        verify = str(tls.ca_file) if tls else True
        discovery = wait_for(base + "/.well-known/openid-configuration", process, log, verify)
        yield dict(discovery.json()), process.pid
    finally:
        stop(process)
        if request.session.testsfailed > failed_before:
            print(f"--- server log ({log}) ---\n{log.read_text(errors='replace')}")
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert not re.search(r'" 5\d\d ', text), text


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} in page:\n{html[:1000]}"
    return match.group(1)


def through_provider(
    browser: requests.Session,
    issuer: str,
    response: requests.Response,
    email: str,
    password: str,
) -> str:
    """From a redirect to the provider, sign in and allow as needed; where it sends us next.

    Redirects inside the provider are followed; its login and consent pages are read and
    posted back with their hidden fields, as a browser does.  The first ``Location`` outside
    the provider is returned, not followed.
    """
    for _ in range(8):
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
        location = urljoin(response.url, response.headers["Location"])
        if not location.startswith(issuer + "/"):
            return location
        response = browser.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
        if response.status_code != 200:
            continue
        form = {
            "interaction": hidden(response.text, "interaction"),
            "csrf_token": hidden(response.text, "csrf_token"),
        }
        path = urlsplit(location).path
        if path.endswith("/login"):
            form.update(email=email, password=password)
        else:
            assert path.endswith("/consent"), location
            form["decision"] = "allow"
        response = browser.post(
            location.split("?")[0], data=form, allow_redirects=False, timeout=HTTP_TIMEOUT
        )
    raise AssertionError("too many redirects")
