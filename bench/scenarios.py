"""The scenarios of bench/run.py: what wrk sends (load.lua's parameters) and to which server.

Each scenario writes the parameter file of one wrk run; the stateful ones get fresh inputs
for every run (codes, refresh tokens), sized from the fastest run so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fixture import FLOW_SCOPES, REDIRECT_URI, Fixture

THREADS = 2
# The provider under the keep-alive server setup (harness.KEEP_ALIVE), beside "provider"
# (sync workers, a connection per request); the baselines' server likewise.
PROVIDER_KEEPALIVE = "provider-keepalive"
HELLO_KEEPALIVE = "hello-keepalive"


@dataclass
class Inputs:
    """What a scenario may draw on for its parameters."""

    fixture: Fixture
    work: Path
    peer: object | None = None  # peers.Peer, for the peer's scenarios


@dataclass(frozen=True)
class Scenario:
    name: str  # short, in the runs table and the plot
    label: str  # in the summary table
    server: str  # "hello", "hello-keepalive", "provider", "provider-keepalive" or a peer
    unit: str  # what units/s counts: "request", "flow" (3 requests) or "login" (3 requests)
    params: Callable[[Inputs, int], dict[str, str]]  # (inputs, units needed) -> load.lua's
    default_rate: float = 2000  # units/s assumed before the first run, to size the inputs


def authorize_path(client_id: str, scopes: tuple[str, ...] = FLOW_SCOPES) -> str:
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": " ".join(scopes),
        "redirect_uri": REDIRECT_URI,
        "state": "bench-state",
        "nonce": "bench-nonce",
    }
    return "/authorize?" + urlencode(query)


def write_items(inputs: Inputs, name: str, items: list[str]) -> str:
    path = inputs.work / f"{name}.txt"
    path.write_text("\n".join(items) + "\n")
    return str(path)


def _hello(inputs: Inputs, count: int) -> dict[str, str]:
    return {"mode": "get", "paths": "/"}


def _webob_hello(inputs: Inputs, count: int) -> dict[str, str]:
    return {"mode": "get", "paths": "/webob-hello", "expect": '"hello"'}


def _frame(inputs: Inputs, count: int) -> dict[str, str]:
    return {"mode": "get", "paths": "/frame", "expect": '"keys"'}


def _token(alg: str, path: str = "/token") -> Callable[[Inputs, int], dict[str, str]]:
    def params(inputs: Inputs, count: int) -> dict[str, str]:
        codes = inputs.fixture.codes(count, alg)
        return {
            "mode": "items",
            "path": path,
            "items_file": write_items(inputs, f"codes-{alg}", codes),
            "threads": str(THREADS),
            "authorization": inputs.fixture.clients[alg].authorization,
            "body": "grant_type=authorization_code&code=%s&redirect_uri="
            + REDIRECT_URI.replace(":", "%3A").replace("/", "%2F"),
            "expect": '"id_token",' + '"refresh_token"',
        }

    return params


def _refresh(inputs: Inputs, count: int) -> dict[str, str]:
    tokens = inputs.fixture.refresh_tokens(count)
    return {
        "mode": "items",
        "path": "/token",
        "items_file": write_items(inputs, "refresh-tokens", tokens),
        "threads": str(THREADS),
        "authorization": inputs.fixture.clients["RS256"].authorization,
        "body": "grant_type=refresh_token&refresh_token=%s",
        "expect": '"access_token","refresh_token"',
    }


def _flow(inputs: Inputs, count: int) -> dict[str, str]:
    fixture = inputs.fixture
    return {
        "mode": "flow",
        "authorize": authorize_path(fixture.clients["RS256"].client_id),
        "cookie": fixture.session_cookie,
        "authorization": fixture.clients["RS256"].authorization,
        "redirect_uri": REDIRECT_URI,
        "token_path": "/token",
        "userinfo_path": "/userinfo",
    }


def _userinfo(inputs: Inputs, count: int) -> dict[str, str]:
    token = inputs.fixture.access_token()
    return {
        "mode": "get",
        "paths": "/userinfo",
        "authorization": "Bearer " + token,
        "expect": '"sub"',
    }


def _discovery(inputs: Inputs, count: int) -> dict[str, str]:
    return {"mode": "get", "paths": "/.well-known/openid-configuration,/jwks"}


def _login(inputs: Inputs, count: int) -> dict[str, str]:
    fixture = inputs.fixture
    return {
        "mode": "login",
        "authorize": authorize_path(fixture.clients["RS256"].client_id),
        "email": fixture.email,
        "password": fixture.password,
        "redirect_uri": REDIRECT_URI,
    }


HELLO = Scenario("hello", "hello-world (raw WSGI)", "hello", "request", _hello)
WEBOB_HELLO = Scenario(
    "webob-hello", "hello-world through WebOb (Request + Response)", "hello", "request",
    _webob_hello,
)  # fmt: skip
FRAME = Scenario(
    "frame", "the provider's per-request frame, no endpoint (WebOb, size limits, request id, "
    "access line, metrics, the JWK Set body)", "hello", "request", _frame,
)  # fmt: skip
TOKEN_FLOOR = Scenario(
    "token-floor", "the least a token request can cost here (bench/token_floor.py: prebuilt "
    "SQL, one transaction, one RS256 signature; no framework, oauthlib, logs or metrics)",
    "hello", "request", _token("RS256", "/token-floor"), 3000,
)  # fmt: skip
TOKEN_FLOOR_KEEPALIVE = Scenario(
    "token-floor-keepalive", f"{TOKEN_FLOOR.label} (connections kept alive)", HELLO_KEEPALIVE,
    "request", TOKEN_FLOOR.params, 3000,
)  # fmt: skip
FLOORS = frozenset({TOKEN_FLOOR.name, TOKEN_FLOOR_KEEPALIVE.name})
TOKEN = Scenario(
    "token", "1. token endpoint, code grant, RS256 ID token + refresh", "provider", "request",
    _token("RS256"), 1500,
)  # fmt: skip
TOKEN_ES256 = Scenario(
    "token-es256", "1. token endpoint, code grant, ES256 ID token + refresh", "provider",
    "request", _token("ES256"), 2000,
)  # fmt: skip
FLOW = Scenario("flow", "2. code flow: authorize, token, userinfo", "provider", "flow", _flow)
REFRESH = Scenario(
    "refresh", "3. refresh token rotation (RS256 ID token)", "provider", "request", _refresh,
    1500,
)  # fmt: skip
USERINFO = Scenario("userinfo", "4. userinfo", "provider", "request", _userinfo)
DISCOVERY = Scenario("discovery", "5. discovery and JWKS", "provider", "request", _discovery)
LOGIN = Scenario("login", "6. password login (argon2id)", "provider", "login", _login)


def kept_alive(scenario: Scenario) -> Scenario:
    """``scenario`` against the provider under the keep-alive setup: wrk keeps its 16
    connections open (load.lua without ``close``), as a relying party's HTTP client does."""
    return Scenario(
        f"{scenario.name}-keepalive",
        f"{scenario.label} (connections kept alive)",
        PROVIDER_KEEPALIVE,
        scenario.unit,
        scenario.params,
        scenario.default_rate,
    )


KEPT_ALIVE = [kept_alive(s) for s in (TOKEN, FLOW, USERINFO, LOGIN)]
OURS = [
    HELLO,
    WEBOB_HELLO,
    FRAME,
    TOKEN_FLOOR,
    TOKEN_FLOOR_KEEPALIVE,
    TOKEN,
    TOKEN_ES256,
    FLOW,
    REFRESH,
    USERINFO,
    DISCOVERY,
    LOGIN,
]
OURS += KEPT_ALIVE
# Served by the hello-world server: what the provider's figures are read against, not the
# provider's own (no targets, no key counters).
BASELINES = frozenset(s.name for s in OURS if s.server in ("hello", HELLO_KEEPALIVE))
# The floors (everything hello-world's server answers) explain the cheapest endpoints' gap
# to hello-world: measured whenever one of these is.
FLOORED = frozenset({USERINFO.name, DISCOVERY.name})


def selected(only: set[str] | None) -> list[Scenario]:
    """The scenarios of ``--only`` (None: all): hello-world always, the floors with the
    scenarios they explain (the token floor with the token endpoint), the keep-alive
    setup's run of each scenario it has."""
    if only is None:
        return list(OURS)
    wanted = only | {HELLO.name}
    if wanted & FLOORED:
        wanted |= BASELINES - FLOORS
    if TOKEN.name in wanted:
        wanted |= FLOORS
    wanted |= {f"{name}-keepalive" for name in wanted}
    return [s for s in OURS if s.name in wanted]


def write_params(path: Path, params: dict[str, str]) -> None:
    for key, value in params.items():
        if "\n" in value:
            raise ValueError(f"parameter {key} spans lines")
    path.write_text("".join(f"{key}={value}\n" for key, value in params.items()))
