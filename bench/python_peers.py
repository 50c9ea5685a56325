"""The Python peers of bench/run.py: django-oauth-toolkit and Authlib (bench/peers_python/).

Each runs under gunicorn with the provider's worker count, from its own virtualenv
(``bench/peers_python/.venv-dot``, ``.venv-authlib``; ``make bench`` makes them), on SQLite
in the run's directory.  Before it is timed, a peer must pass ``peers_python/check.py``
(authorize -> code -> token, the ID token verified with PyJWT against its JWKS, the code
refused when replayed); one that fails is reported as broken and not timed.

Scenarios: 1 (the token endpoint, codes pre-issued through the peer's bench-only
``/bench/codes``, PKCE verifier sent), 2 (the code flow of the signed-in user, with PKCE) and
4 (userinfo), with the same wrk modes as ours.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import os
import secrets
import sys
import urllib.request
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from pathlib import Path
from urllib.parse import urlencode

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


@dataclass(frozen=True)
class Kind:
    name: str  # "dot" or "authlib": the scenarios' prefix and the server's name
    title: str
    app: str  # gunicorn's app argument, run in PEERS / name
    prefix: str  # where the peer's OAuth endpoints live
    issuer_suffix: str
    packages: tuple[str, ...]
    notes: str


KINDS = (
    Kind(
        "dot", "django-oauth-toolkit", "wsgi:application", "/o", "/o",
        ("Django", "django-oauth-toolkit", "oauthlib"),
        "Django + django-oauth-toolkit (`bench/peers_python/dot/`): OIDC enabled, PKCE "
        "required (DOT's default), consent skipped for the client",
    ),
    Kind(
        "authlib", "Authlib", "app:app", "", "", ("Flask", "Authlib", "SQLAlchemy"),
        "Flask + Authlib (`bench/peers_python/authlib/`): AuthorizationCodeGrant with "
        "OpenIDCode and CodeChallenge, its SQLAlchemy mixins, the client's secret stored "
        "in clear (the mixin's way)",
    ),
)  # fmt: skip


def venv(kind: Kind) -> Path:
    return PEERS / f".venv-{kind.name}"


def available() -> list[Kind]:
    found = []
    for kind in KINDS:
        if (venv(kind) / "bin" / "gunicorn").exists():
            found.append(kind)
        else:
            print(f"{venv(kind)} is missing (make bench): peer {kind.name} skipped", flush=True)
    return found


class PythonPeer:
    def __init__(self, kind: Kind, work: Path) -> None:
        self.kind = kind
        self.secret = secrets.token_urlsafe(32)
        port = procs.free_port()
        peer_work = work / f"peer-{kind.name}"
        peer_work.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "ISSUER": f"http://127.0.0.1:{port}",
            "CLIENT_SECRET": self.secret,
            "REDIRECT_URI": REDIRECT_URI,
            "PEER_WORK": str(peer_work),
            "BENCH_PASSWORD": PASSWORD,
        }
        argv = [
            str(venv(kind) / "bin" / "gunicorn"), kind.app, "--preload",
            "--chdir", str(PEERS / kind.name), "--workers", str(WORKERS),
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
        self.scenarios = [
            Scenario(
                f"{name}-token", f"{title}: token endpoint, RS256 ID token + refresh", name,
                "request", self._token_params, 500,
            ),
            Scenario(
                f"{name}-flow", f"{title}: code flow", name, "flow", self._flow_params, 200
            ),
            Scenario(
                f"{name}-userinfo", f"{title}: userinfo", name, "request",
                self._userinfo_params, 1000,
            ),
        ]  # fmt: skip

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
        for line in (PEERS / self.kind.name / "requirements.txt").read_text().splitlines():
            package, _, pinned = line.partition("==")
            if package in self.kind.packages:
                versions[package] = pinned
        if not versions:
            raise PackageNotFoundError(self.kind.name)
        listed = ", ".join(f"{k} {v}" for k, v in versions.items())
        notes = self.kind.notes
        if self.kind.name == "dot":
            notes += (
                ", the client's secret stored in clear (DOT_HASH_CLIENT_SECRET=0)"
                if os.environ.get("DOT_HASH_CLIENT_SECRET") == "0"
                else ", the client's secret hashed (DOT's default: Django's PBKDF2, "
                "1,000,000 iterations, on every client authentication; "
                "DOT_HASH_CLIENT_SECRET=0 stores it in clear)"
            )
        return {
            "name": self.kind.name,
            "title": self.kind.title,
            "versions": listed,
            "broken": self.broken or "",
            "description": (
                f"{notes}; {listed}; gunicorn {WORKERS} sync workers, SQLite, RS256 (RSA 2048)."
            ),
        }


def started(work: Path) -> list[PythonPeer]:
    """Start the available peers (not yet ready: the caller waits with its servers)."""
    return [PythonPeer(kind, work) for kind in available()]
