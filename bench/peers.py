"""The peer of bench/run.py: node-oidc-provider (bench/peers/server.mjs) in the same rounds.

Scenarios 1 (token endpoint, RS256 ID token and a refresh token) and 2 (the code flow of a
signed-in user who consented) against the peer, with the same load.lua modes as ours.
The user signs in and consents once through the peer's development interactions.
"""

from __future__ import annotations

import base64
import http.cookiejar
import os
import secrets
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import procs
from fixture import REDIRECT_URI
from procs import Server
from scenarios import THREADS, Inputs, Scenario, write_items

PEERS = Path(__file__).resolve().parent / "peers"
SCOPES = "openid profile email"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Peer:
    def __init__(self, work: Path) -> None:
        self.secret = secrets.token_urlsafe(32)
        port = procs.free_port()
        env = {
            **os.environ,
            "PORT": str(port),
            "CLIENT_SECRET": self.secret,
            "REDIRECT_URI": REDIRECT_URI,
            "NODE_ENV": "production",
        }
        node = shutil.which("node") or "node"
        self.server = Server(
            "peer", [node, str(PEERS / "server.mjs")], port, env, work, worker_count=0,
            ready_path="/.well-known/openid-configuration",
        )  # fmt: skip
        self.cookie = ""
        self.scenarios = [
            Scenario(
                "peer-token", "peer: token endpoint, RS256 ID token + refresh", "peer",
                "request", self._token_params("bench-rs256"), 1500,
            ),
            Scenario(
                "peer-token-es256", "peer: token endpoint, ES256 ID token + refresh", "peer",
                "request", self._token_params("bench-es256"), 1500,
            ),
            Scenario(
                "peer-token-keepalive", "peer: token endpoint, RS256, connections kept alive",
                "peer", "request", self._token_params("bench-rs256", keep_alive=True), 1500,
            ),
            Scenario(
                "peer-flow", "peer: code flow", "peer", "flow", self._flow_params(), 500
            ),
            Scenario(
                "peer-flow-keepalive", "peer: code flow, connections kept alive", "peer",
                "flow", self._flow_params(keep_alive=True), 500,
            ),
        ]  # fmt: skip

    def authorization(self, client_id: str) -> str:
        return "Basic " + base64.b64encode(f"{client_id}:{self.secret}".encode()).decode()

    def authorize_path(self) -> str:
        query = {
            "client_id": "bench-rs256",
            "response_type": "code",
            "scope": SCOPES,
            "redirect_uri": REDIRECT_URI,
            "state": "bench-state",
            "nonce": "bench-nonce",
        }
        return "/auth?" + urlencode(query)

    def sign_in(self) -> None:
        """Log in and consent once through the development interactions; keep the cookies
        of the signed-in session for the code flow."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        url = self.server.url + self.authorize_path()
        data: bytes | None = None
        for _ in range(12):
            try:
                opener.open(urllib.request.Request(url, data=data), timeout=10)
                raise RuntimeError(f"peer: no redirect from {url}")
            except urllib.error.HTTPError as answer:
                location = answer.headers.get("Location")
                if answer.code == 200 or location is None:
                    raise RuntimeError(f"peer: {answer.code} at {url}") from None
            url = urljoin(url, location)
            data = None
            if url.startswith(REDIRECT_URI):
                if "code=" not in url:
                    raise RuntimeError(f"peer: sign-in ended with {url}")
                break
            path = urlsplit(url).path
            if path.startswith("/interaction/"):
                page = opener.open(url, timeout=10).read().decode()
                prompt = "login" if 'name="login"' in page else "consent"
                fields = {"prompt": prompt, "login": "bench-user", "password": "x"}
                data = urlencode(fields if prompt == "login" else {"prompt": prompt}).encode()
        else:
            raise RuntimeError("peer: too many redirects at sign-in")
        self.cookie = "; ".join(
            f"{c.name}={c.value}" for c in jar if c.path == "/" and c.name.startswith("_session")
        )
        if "_session=" not in self.cookie:
            raise RuntimeError(f"peer: no session cookie after sign-in: {list(jar)}")

    def check(self) -> None:
        """The correctness check before node is timed (as the Python peers'): a code
        exchanged for tokens, the ID token verified with PyJWT against node's JWKS (RS256,
        iss, aud, exp), the same code replayed and refused with ``invalid_grant``.  Raises
        ``PeerBroken``."""
        # bench/peers_python/check.py, on the path since run.py imports python_peers
        import check as peer_check
        import jwt

        client = peer_check.PeerClient(
            base=self.server.url,
            client_id="bench-rs256",
            client_secret=self.secret,
            redirect_uri=REDIRECT_URI,
            login_path="",
            login_fields={},
        )
        exchange = {
            "grant_type": "authorization_code",
            "code": self.codes(1, client.client_id)[0],
            "redirect_uri": REDIRECT_URI,
        }
        status, answer = peer_check._post_token(client, exchange)
        if status != 200 or "id_token" not in answer:
            raise peer_check.PeerBroken(f"node: token endpoint answered {status}: {answer}")
        key = jwt.PyJWKClient(self.server.url + "/jwks").get_signing_key_from_jwt(
            answer["id_token"]
        )
        jwt.decode(
            answer["id_token"],
            key.key,
            algorithms=["RS256"],
            audience=client.client_id,
            issuer=self.server.url,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        status, replay = peer_check._post_token(client, exchange)
        if status == 200 or replay.get("error") != "invalid_grant":
            raise peer_check.PeerBroken(f"node: replayed code answered {status}: {replay}")

    def codes(self, count: int, client_id: str) -> list[str]:
        query = urlencode({"client": client_id, "n": count})
        with urllib.request.urlopen(f"{self.server.url}/bench/codes?{query}", timeout=120) as r:
            return [line for line in r.read().decode().splitlines() if line]

    def _token_params(
        self, client_id: str, keep_alive: bool = False
    ) -> Callable[[Inputs, int], dict[str, str]]:
        def params(inputs: Inputs, count: int) -> dict[str, str]:
            codes = self.codes(count, client_id)
            return {
                "mode": "items",
                "path": "/token",
                "items_file": write_items(inputs, f"peer-codes-{client_id}", codes),
                "threads": str(THREADS),
                "authorization": self.authorization(client_id),
                "body": "grant_type=authorization_code&code=%s&redirect_uri="
                + REDIRECT_URI.replace(":", "%3A").replace("/", "%2F"),
                "expect": '"id_token","refresh_token"',
                "close": "0" if keep_alive else "1",
            }

        return params

    def _flow_params(self, keep_alive: bool = False) -> Callable[[Inputs, int], dict[str, str]]:
        def params(inputs: Inputs, count: int) -> dict[str, str]:
            return {
                "mode": "flow",
                "authorize": self.authorize_path(),
                "cookie": self.cookie,
                "authorization": self.authorization("bench-rs256"),
                "redirect_uri": REDIRECT_URI,
                "token_path": "/token",
                "userinfo_path": "/me",
                "close": "0" if keep_alive else "1",
            }

        return params

    def describe(self) -> dict[str, str]:
        version = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        package = (PEERS / "node_modules" / "oidc-provider" / "package.json").read_text()
        provider_version = package.split('"version": "', 1)[1].split('"', 1)[0]
        return {
            "node": version,
            "oidc-provider": provider_version,
            "description": (
                f"node-oidc-provider {provider_version} on Node {version} (`bench/peers/"
                "server.mjs`): one node process (node runs JavaScript on one thread; its "
                "in-memory store cannot be shared by several processes), RS256 and ES256 "
                "keys, two client_secret_basic clients, scopes openid profile email "
                "offline_access, a findAccount stub, consent given once through its "
                "development interactions; wrk asks it to close the connection after each "
                "answer, as gunicorn's sync workers do with ours, and runs scenarios 1 and 2 "
                "once more with the connections kept alive, against ours kept alive too. "
                "**In-memory store** organised as the package's Redis adapter example "
                "(records as JSON, a grant's tokens in a set: O(1) per call; the package's "
                "own development adapter walks every token of a grant on each save): no "
                "database, where oidc-core writes every code and token to SQLite; one node "
                "process for every round. Our provider uses 2 gunicorn workers; compare CPU "
                "per unit for the work per request, throughput for what each setup serves on "
                "this machine."
            ),
        }
