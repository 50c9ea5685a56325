"""The Python peers of bench/run.py: django-oauth-toolkit and Authlib (bench/peers_python/).

Each runs under gunicorn with the provider's worker count, from its own virtualenv
(``bench/peers_python/.venv-dot``, ``.venv-authlib``; ``make bench`` makes them), on the
backend of the round: SQLite in the run's directory, or on PostgreSQL a database of its own
next to the provider's (peer_databases.py).  Before it is timed, a peer must pass
``peers_python/check.py`` (authorize -> code -> token, the ID token verified with PyJWT against
its JWKS, the code refused when replayed); one that fails is reported as broken and not timed.

DOT runs twice, in each idiomatic setup: ``dot`` with its default, the client's secret hashed
(PBKDF2, 1,000,000 iterations, on every client authentication: only its token endpoint is
timed, the hash is all there is to see), and ``dot-clear`` with the secret stored in clear.

Scenarios, named ``<peer>-<ours>`` after the provider's they compare with and selected by
``--only`` as ours are (``token`` selects every peer's token scenario, ``dot-token`` that one):
token (codes pre-issued through the peer's bench-only ``/bench/codes``, PKCE verifier sent),
flow (the code flow of the signed-in user, with PKCE) and userinfo, with the same wrk modes as
ours.  ``settle`` waits after a peer's run until its workers are idle: a hashed DOT still
serves the requests wrk left queued for seconds after wrk has stopped.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.cookiejar
import json
import os
import secrets
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import peer_databases
import procs
from fixture import REDIRECT_URI
from harness import WORKERS
from procs import Server
from scenarios import THREADS, Inputs, Scenario, write_items

PEERS = Path(__file__).resolve().parent / "peers_python"
sys.path.insert(0, str(PEERS))
from check import PeerBroken, PeerClient, check  # noqa: E402

BENCH_VERIFIER = "bench-verifier-" + "x" * 40
USER, PASSWORD = "bench-user", "bench-password"
TIMED = ("token", "flow", "userinfo")  # the provider's scenarios the peers have
DOT_NOTES = (
    "Django + django-oauth-toolkit (`bench/peers_python/dot/`): OIDC enabled, PKCE "
    "required (DOT's default), consent skipped for the client"
)
HASHED = (
    ", the client's secret hashed (DOT's default: Django's PBKDF2, 1,000,000 iterations, "
    "on every client authentication); only the token endpoint is timed"
)


@dataclass(frozen=True)
class Kind:
    name: str  # the scenarios' prefix and the server's name
    title: str  # in the report's tables
    code: str  # the directory of the peer's code (and of its virtualenv's name)
    app: str  # gunicorn's app argument, run in PEERS / code
    prefix: str  # where the peer's OAuth endpoints live
    issuer_suffix: str
    scheme: str  # of its DATABASE_URL on PostgreSQL
    packages: tuple[str, ...]
    notes: str
    timed: tuple[str, ...] = TIMED
    env: dict[str, str] = field(default_factory=dict)


KINDS = (
    Kind(
        "dot", "DOT, hashed secret (default)", "dot", "wsgi:application", "/o", "/o",
        "postgresql", ("Django", "django-oauth-toolkit", "oauthlib"), DOT_NOTES + HASHED,
        timed=("token",), env={"DOT_HASH_CLIENT_SECRET": "1"},
    ),
    Kind(
        "dot-clear", "DOT, secret in clear", "dot", "wsgi:application", "/o", "/o",
        "postgresql", ("Django", "django-oauth-toolkit", "oauthlib"),
        DOT_NOTES + ", the client's secret stored in clear (`DOT_HASH_CLIENT_SECRET=0`)",
        env={"DOT_HASH_CLIENT_SECRET": "0"},
    ),
    Kind(
        "authlib", "Authlib", "authlib", "app:app", "", "", "postgresql+psycopg",
        ("Flask", "Authlib", "SQLAlchemy"),
        "Flask + Authlib (`bench/peers_python/authlib/`): AuthorizationCodeGrant with "
        "OpenIDCode and CodeChallenge, its SQLAlchemy mixins, the client's secret stored "
        "in clear (the mixin's way)",
    ),
)  # fmt: skip


def wanted(kind: Kind, only: set[str] | None) -> list[str]:
    """The provider's scenarios (of ``kind.timed``) that ``--only`` selects for this peer."""
    if only is None:
        return list(kind.timed)
    return [name for name in kind.timed if name in only or f"{kind.name}-{name}" in only]


def owns(scenario: str) -> bool:
    """Whether ``scenario`` (a name) is a Python peer's."""
    return any(scenario == f"{kind.name}-{ours}" for kind in KINDS for ours in TIMED)


def venv(kind: Kind) -> Path:
    return PEERS / f".venv-{kind.code}"


def available(only: set[str] | None) -> list[Kind]:
    """The peers with a virtualenv and a scenario that ``--only`` selects."""
    found = []
    for kind in KINDS:
        if not wanted(kind, only):
            continue
        if (venv(kind) / "bin" / "gunicorn").exists():
            found.append(kind)
        else:
            print(f"{venv(kind)} is missing (make bench): peer {kind.name} skipped", flush=True)
    return found


class PythonPeer:
    def __init__(
        self, kind: Kind, work: Path, database_url: str | None, only: set[str] | None
    ) -> None:
        self.kind = kind
        self.secret = secrets.token_urlsafe(32)
        port = procs.free_port()
        peer_work = work / f"peer-{kind.name}"
        peer_work.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            **kind.env,
            "ISSUER": f"http://127.0.0.1:{port}",
            "CLIENT_SECRET": self.secret,
            "REDIRECT_URI": REDIRECT_URI,
            "PEER_WORK": str(peer_work),
            "BENCH_PASSWORD": PASSWORD,
        }
        if database_url:
            env["DATABASE_URL"] = database_url
        argv = [
            str(venv(kind) / "bin" / "gunicorn"), kind.app, "--preload",
            "--chdir", str(PEERS / kind.code), "--workers", str(WORKERS),
            "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
        self.server = Server(
            kind.name, argv, port, env, work, worker_count=WORKERS,
            ready_path=kind.prefix + "/.well-known/openid-configuration",
        )  # fmt: skip
        self.broken: str | None = None
        self.access_token = ""
        self.cookie = ""
        name, title = kind.name, kind.title
        every = {
            "token": Scenario(
                f"{name}-token", f"{title}: token endpoint, RS256 ID token + refresh", name,
                "request", self._token_params, 500,
            ),
            "flow": Scenario(
                f"{name}-flow", f"{title}: code flow", name, "flow", self._flow_params, 200
            ),
            "userinfo": Scenario(
                f"{name}-userinfo", f"{title}: userinfo", name, "request",
                self._userinfo_params, 1000,
            ),
        }  # fmt: skip
        self.scenarios = [every[ours] for ours in wanted(kind, only)]

    @property
    def client(self) -> PeerClient:
        prefix = self.kind.prefix
        return PeerClient(
            base=self.server.url,
            client_id="bench-rs256",
            client_secret=self.secret,
            redirect_uri=REDIRECT_URI,
            login_path="/login",
            login_fields={"username": USER, "password": PASSWORD},
            authorize_path=prefix + "/authorize" + ("/" if prefix else ""),
            token_path=prefix + "/token" + ("/" if prefix else ""),
            jwks_path=prefix + ("/.well-known/jwks.json" if prefix else "/jwks"),
            issuer=self.server.url + self.kind.issuer_suffix,
        )

    def check(self) -> None:
        """Run the correctness check; on failure, mark the peer broken."""
        try:
            check(self.client)
        except (PeerBroken, OSError, ValueError) as error:
            self.broken = f"{type(error).__name__}: {error}"
            print(f"peer {self.kind.name} is broken, not timed: {self.broken}", flush=True)

    def sign_in(self) -> None:
        """Log the bench user in once; keep the session cookie for the code flow."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        fields = urlencode({"username": USER, "password": PASSWORD}).encode()
        opener.open(self.server.url + "/login", data=fields, timeout=30).close()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        if not self.cookie:
            raise PeerBroken(f"{self.kind.name}: no session cookie after login")

    def _flow_params(self, inputs: Inputs, count: int) -> dict[str, str]:
        if not self.cookie:
            self.sign_in()
        digest = hashlib.sha256(BENCH_VERIFIER.encode()).digest()
        query = {
            "client_id": "bench-rs256",
            "response_type": "code",
            "scope": "openid profile email",
            "redirect_uri": REDIRECT_URI,
            "state": "bench-state",
            "nonce": "bench-nonce",
            "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        if self.kind.name == "authlib":
            # Authlib refuses a nonce that an unexchanged code still carries ("Replay
            # attack"), and wrk repeats one authorize URL: no nonce (optional in the code flow).
            del query["nonce"]
        prefix = self.kind.prefix
        return {
            "mode": "flow",
            "authorize": self.client.authorize_path + "?" + urlencode(query),
            "cookie": self.cookie,
            "authorization": self.authorization(),
            "redirect_uri": REDIRECT_URI,
            "token_path": self.client.token_path,
            "token_extra": "&code_verifier=" + BENCH_VERIFIER,
            "userinfo_path": prefix + "/userinfo" + ("/" if prefix else ""),
            "close": "1",
        }

    def authorization(self) -> str:
        pair = f"bench-rs256:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def codes(self, count: int) -> list[str]:
        url = f"{self.server.url}/bench/codes?{urlencode({'n': count})}"
        with urllib.request.urlopen(url, timeout=300) as answer:
            return [line for line in answer.read().decode().splitlines() if line]

    def _token_params(self, inputs: Inputs, count: int) -> dict[str, str]:
        codes = self.codes(count)
        return {
            "mode": "items",
            "path": self.client.token_path,
            "items_file": write_items(inputs, f"{self.kind.name}-codes", codes),
            "threads": str(THREADS),
            "authorization": self.authorization(),
            "body": "grant_type=authorization_code&code=%s&redirect_uri="
            + REDIRECT_URI.replace(":", "%3A").replace("/", "%2F")
            + "&code_verifier="
            + BENCH_VERIFIER,
            "expect": '"id_token","refresh_token"',
            "close": "1",
        }

    def _token(self) -> str:
        request = urllib.request.Request(
            self.server.url + self.client.token_path,
            data=urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": self.codes(1)[0],
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": BENCH_VERIFIER,
                }
            ).encode(),
            headers={"Authorization": self.authorization()},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            token: str = json.loads(answer.read())["access_token"]
        return token

    def _userinfo_params(self, inputs: Inputs, count: int) -> dict[str, str]:
        if not self.access_token:
            self.access_token = self._token()
        prefix = self.kind.prefix
        return {
            "mode": "get",
            "paths": prefix + "/userinfo" + ("/" if prefix else ""),
            "authorization": "Bearer " + self.access_token,
            "expect": '"sub"',
            "close": "1",
        }

    def describe(self) -> dict[str, str]:
        versions = {}
        for line in (PEERS / self.kind.code / "requirements.txt").read_text().splitlines():
            package, _, pinned = line.partition("==")
            if package in self.kind.packages:
                versions[package] = pinned
        if not versions:
            raise PackageNotFoundError(self.kind.name)
        listed = ", ".join(f"{k} {v}" for k, v in versions.items())
        return {
            "name": self.kind.name,
            "title": self.kind.title,
            "versions": listed,
            "broken": self.broken or "",
            "description": (
                f"**{self.kind.title}** (`{self.kind.name}-*`): {self.kind.notes}; {listed}; "
                f"gunicorn {WORKERS} sync workers, RS256 (RSA 2048)."
            ),
        }


def settle(server: Server, timeout: float = 30) -> None:
    """Wait until the server's processes stop spending CPU (0.3 s without a tick)."""
    deadline = time.monotonic() + timeout
    spent = procs.cpu_seconds(server.pids())
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = procs.cpu_seconds(server.pids())
        if now == spent:
            return
        spent = now


@contextlib.contextmanager
def running(setup: Any, only: set[str] | None) -> Iterator[list[PythonPeer]]:
    """Start the available peers that ``--only`` selects on ``setup``'s backend (a harness
    Setup: its servers and python_peers get them), wait for them, check them; stop them (and
    drop their PostgreSQL databases) at the end."""
    with contextlib.ExitStack() as stack:
        others = []
        for kind in available(only):
            url = None
            if setup.backend == "postgresql":
                suffix = kind.name.replace("-", "_")
                name = stack.enter_context(peer_databases.created(setup.url, suffix))
                url = peer_databases.sibling(setup.url, name, kind.scheme)
            other = PythonPeer(kind, setup.work, url, only)
            stack.callback(other.server.stop)
            others.append(other)
        for other in others:
            other.server.wait_ready()
            setup.servers[other.kind.name] = other.server
        for other in others:
            other.check()
        setup.python_peers.extend(others)
        yield others
