"""The examples run with their documented commands, and a browser logs in through each.

Each example starts on a free loopback port (its issuer says which), on a temporary SQLite
database (PostgreSQL with ``OIDC_TEST_DATABASE_URL``).  The demo user and client it prints
at start play the user and the relying party: authorize with PKCE and a nonce, the login
and consent pages, the code, the token request, the ID token verified with PyJWT against
the published JWK Set, and userinfo.  The server's log must hold no traceback and no 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.support.examples import environment, printed, readme_argv, running
from tests.support.live import HTTP_TIMEOUT, OIDC_CORE, free_port, run_cli, through_provider

pytestmark = pytest.mark.server

REDIRECT_URI = "http://127.0.0.1:9000/callback"  # the demo client's, from oidc-core init --demo
GUNICORN = str(Path(OIDC_CORE).parent / "gunicorn")


@dataclass
class Demo:
    issuer: str
    email: str
    password: str
    client_id: str
    client_secret: str


def demo_of(issuer: str, text: str) -> Demo:
    return Demo(
        issuer,
        "demo@example.com",
        printed(text, "password"),
        printed(text, "client_id"),
        printed(text, "client_secret"),
    )


def full_login(demo: Demo) -> dict[str, Any]:
    """The code flow through the provider as published by discovery; the userinfo answer."""
    metadata = requests.get(
        demo.issuer + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT
    ).json()
    assert metadata["issuer"] == demo.issuer
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert metadata[name].startswith(demo.issuer + "/"), (name, metadata[name])
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    query = {
        "client_id": demo.client_id,
        "response_type": "code",
        "scope": "openid profile email",
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    browser = requests.Session()
    start = browser.get(
        metadata["authorization_endpoint"] + "?" + urlencode(query),
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    callback = through_provider(browser, demo.issuer, start, demo.email, demo.password)
    assert callback.startswith(REDIRECT_URI + "?"), callback
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert (params["state"], params["iss"]) == (state, demo.issuer)

    token = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(demo.client_id, demo.client_secret),
        timeout=HTTP_TIMEOUT,
    )
    assert token.status_code == 200, token.text
    tokens = token.json()
    jwks = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        tokens["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=demo.client_id,
        issuer=demo.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce"]},
    )
    assert claims["nonce"] == nonce
    info = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=HTTP_TIMEOUT,
    )
    assert info.status_code == 200, info.text
    answer: dict[str, Any] = info.json()
    assert answer["sub"] == claims["sub"]
    assert answer["email"] == demo.email
    return answer


# -- the examples --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "home_text"),
    [
        (".venv/bin/python examples/wsgi_middleware/app.py", "The host application"),
        (".venv/bin/python examples/bottle_app/app.py", "A Bottle application"),
    ],
    ids=["wsgi_middleware", "bottle_app"],
)
def test_an_example_serves_its_host_and_a_login_under_oidc(
    tmp_path: Path, request: pytest.FixtureRequest, command: str, home_text: str
) -> None:
    origin = f"http://127.0.0.1:{free_port()}"
    env = environment(tmp_path, origin + "/oidc")
    ready = origin + "/oidc/.well-known/openid-configuration"
    log = tmp_path / "server.log"
    with running(readme_argv(command), env, ready, log, request) as text:
        home = requests.get(origin + "/", timeout=HTTP_TIMEOUT)
        assert home.status_code == 200 and home_text in home.text
        other = requests.get(origin + "/oidcx", timeout=HTTP_TIMEOUT)
        assert "nothing at this address" not in other.text  # the host's, not the provider's
        assert full_login(demo_of(origin + "/oidc", text))["name"] == "Demo User"


def test_gunicorn_with_the_standalone_configuration_under_script_name(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """examples/standalone/gunicorn.conf.py, with SCRIPT_NAME=/oidc and the issuer under it."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/oidc"
    env = {**environment(tmp_path, issuer), "SCRIPT_NAME": "/oidc", "OIDC_LOG_FORMAT": "json"}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")  # its hooks create it
    text = run_cli(env, "init", "--demo")
    command = [
        GUNICORN,
        "-c",
        "examples/standalone/gunicorn.conf.py",
        "oidc_adapters.standalone:create_app()",
    ]
    ready = issuer + "/.well-known/openid-configuration"
    with running(command, env, ready, tmp_path / "server.log", request):
        assert full_login(demo_of(issuer, text))["email_verified"] is True
        health = requests.get(
            issuer + "/health/ready?code=not-logged",
            headers={"X-Request-Id": "live-check-1"},
            timeout=HTTP_TIMEOUT,
        )
        assert health.status_code == 200 and health.headers["X-Request-Id"] == "live-check-1"
    log = (tmp_path / "server.log").read_text()
    assert "Booting worker" in log and log.count("Booting worker") == 2
    assert list((tmp_path / "metrics").glob("counter_*.db")), "the workers counted elsewhere"
    # the provider's JSON access line, with the request id and without the query string
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    [access] = [line for line in lines if line.get("request_id") == "live-check-1"]
    assert access["logger"] == "oidc_core.access" and access["path"] == "/oidc/health/ready"
    assert access["status"] == 200 and access["client"] == "127.0.0.1"
    assert "not-logged" not in log
    assert any(line.get("path") == "/oidc/token" for line in lines)


def test_standalone_refuses_a_script_name_that_is_not_the_issuers_path(
    tmp_path: Path,
) -> None:
    env = {**environment(tmp_path, "http://127.0.0.1:8000/oidc"), "SCRIPT_NAME": "/sso"}
    result = subprocess.run(
        [str(Path(OIDC_CORE).parent / "python"), "-c",
         "from oidc_adapters.standalone import create_app; create_app()"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "SCRIPT_NAME: mount prefix '/sso' disagrees with the issuer" in result.stderr
