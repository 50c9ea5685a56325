"""openid-client (Node.js, the OpenID-certified relying-party library) against a real server.

The provider runs as ``oidc-core serve`` on a free loopback port, set up through the CLI.
``tests/interop/node/openid_client_rp.mjs`` is the relying party, one step per run: it
discovers the provider, builds the authorization URL (PKCE S256, state, nonce), and later
exchanges the code with its strict checks on (ID token signature and claims, state, nonce,
the RFC 9207 ``iss`` response parameter), then calls userinfo, refreshes and revokes.  In
between, a ``requests`` session plays the browser on the provider's real login and consent
pages and hands the callback URL to the script.  ID tokens are verified again here with
PyJWT.  A failure names the client, the step and the provider's log lines for it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.browser.relying_party import LiveApp, verified_id_token
from tests.support.live import HTTP_TIMEOUT, free_port, through_provider
from tests.support.node import package_version, require_packages, run_script
from tests.support.tls import SCHEMES, TLSFiles, provider_over
from tests.support.trace import Trace

pytestmark = pytest.mark.server

SCRIPT = "openid_client_rp.mjs"
SCOPE = "openid profile email offline_access"
PASSWORD = "a long and correct password for openid-client"


@pytest.fixture(scope="module", params=SCHEMES)
def scheme(request: pytest.FixtureRequest) -> str:
    """The provider over https (a throwaway CA), then over plain http on loopback."""
    return str(request.param)


@pytest.fixture(scope="module")
def ca_file(scheme: str, tls_files: TLSFiles) -> Path | None:
    """The CA that issued the provider's TLS certificate (None: plain http on loopback)."""
    return tls_files.ca_file if scheme == "https" else None


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    scheme: str,
    tls_files: TLSFiles,
) -> Iterator[LiveApp]:
    require_packages("openid-client")
    tmp = tmp_path_factory.mktemp("openid-client")
    with provider_over(scheme, tmp, request, tls_files) as provider:
        email = f"openid-client-{secrets.token_hex(6)}@example.com"
        provider.create_user(email, PASSWORD, "Node Tester")
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        client_id, client_secret = provider.create_client(
            "openid-client interop", redirect_uri, "--grant-type", "refresh_token", "--scope", SCOPE
        )
        yield LiveApp(
            issuer=provider.issuer,
            metadata=provider.metadata,
            log=tmp / "server.log",
            name="openid-client interop",
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            email=email,
            password=PASSWORD,
        )


@pytest.fixture
def trace(live: LiveApp) -> Trace:
    return Trace(f"openid-client {package_version('openid-client')}", live.log)


class RelyingParty:
    """The script, run as one client of ``live``, its requests recorded in ``trace``."""

    def __init__(self, live: LiveApp, trace: Trace, ca_file: Path | None, **client: str) -> None:
        self.live, self.trace, self.ca_file = live, trace, ca_file
        self.client = {
            "issuer": live.issuer,
            "client_id": live.client_id,
            "client_secret": live.client_secret,
            "auth_method": "client_secret_basic",
            "redirect_uri": live.redirect_uri,
            "scope": SCOPE,
            **client,
        }

    def run(self, step: str, **request: Any) -> dict[str, Any]:
        return run_script(
            SCRIPT, {**self.client, "step": step, **request}, self.trace, self.ca_file
        )

    def succeeds(self, step: str, **request: Any) -> dict[str, Any]:
        answer = self.run(step, **request)
        assert answer["ok"], f"{answer['step']!r}: {answer['error']}"
        return answer

    def fails(self, step: str, failing_step: str, error: str, **request: Any) -> dict[str, Any]:
        """The script fails in ``failing_step`` with the OAuth ``error`` code."""
        answer = self.run(step, **request)
        assert not answer["ok"], f"expected {error} in {failing_step!r}, got {answer}"
        assert answer["step"] == failing_step, answer
        assert answer["error"].get("error") == error, answer["error"]
        return dict(answer["error"])

    def authorize(self, **request: Any) -> dict[str, Any]:
        with self.trace.step("authorization URL"):
            authorization = self.succeeds("authorize", **request)
            query = parse_qs(urlsplit(authorization["url"]).query)
            assert authorization["url"].startswith(self.live.metadata["authorization_endpoint"])
            assert query["code_challenge_method"] == ["S256"], query
            assert query["state"] == [authorization["state"]], query
            assert query["nonce"] == [authorization["nonce"]], query
        return authorization

    def sign_in(self, authorization: dict[str, Any]) -> str:
        """Login and consent on the provider's pages; the callback URL."""
        with self.trace.step("login and consent"):
            browser = self.trace.session()
            response = browser.get(
                authorization["url"], allow_redirects=False, timeout=HTTP_TIMEOUT
            )
            callback = through_provider(
                browser, self.live.issuer, response, self.live.email, self.live.password
            )
            assert callback.startswith(self.live.redirect_uri + "?"), callback
        return callback

    def exchange(
        self, authorization: dict[str, Any], callback: str, **request: Any
    ) -> dict[str, Any]:
        return self.run(
            "exchange",
            callback=callback,
            state=authorization["state"],
            nonce=authorization["nonce"],
            code_verifier=authorization["code_verifier"],
            **request,
        )


@pytest.fixture
def rp(live: LiveApp, trace: Trace, ca_file: Path | None) -> RelyingParty:
    return RelyingParty(live, trace, ca_file)


def _token_status(live: LiveApp, refresh_token: str) -> tuple[int, str]:
    response = requests.post(
        live.metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(live.client_id, live.client_secret),
        timeout=HTTP_TIMEOUT,
    )
    return response.status_code, response.json().get("error", "")


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_code_flow_userinfo_refresh_revoke(
    live: LiveApp, trace: Trace, ca_file: Path | None, auth_method: str
) -> None:
    rp = RelyingParty(live, trace, ca_file, auth_method=auth_method)
    authorization = rp.authorize()
    callback = rp.sign_in(authorization)
    with trace.step("code exchange, userinfo, refresh, revoke"):
        answer = rp.exchange(authorization, callback, then=["userinfo", "refresh", "revoke"])
        assert answer["ok"], f"{answer['step']!r}: {answer['error']}"
    token, refreshed = answer["token"], answer["refresh"]

    with trace.step("check the tokens"):
        assert token["token_type"].lower() == "bearer"
        assert set(token["scope"].split()) == set(SCOPE.split())
        claims = verified_id_token(live, token["id_token"], authorization["nonce"])
        assert token["claims"] == claims  # what openid-client validated is what PyJWT did
        assert answer["userinfo"]["sub"] == claims["sub"]
        assert answer["userinfo"]["email"] == live.email
        assert answer["userinfo"]["name"] == "Node Tester"
        assert refreshed["access_token"] != token["access_token"]
        assert refreshed["refresh_token"] != token["refresh_token"]  # rotated
        if refreshed["claims"] is not None:  # an ID token on refresh: same user, checked
            assert refreshed["claims"]["sub"] == claims["sub"]
            verified_id_token(live, refreshed["id_token"], None)
    with trace.step("the revoked refresh token is dead"):
        assert answer["revoked"] is True
        assert _token_status(live, refreshed["refresh_token"]) == (400, "invalid_grant")


def test_a_wrong_iss_in_the_callback_is_rejected(rp: RelyingParty, live: LiveApp) -> None:
    """RFC 9207: openid-client compares ``iss`` with the issuer; the real one still works."""
    authorization = rp.authorize()
    callback = rp.sign_in(authorization)
    params = dict(parse_qs(urlsplit(callback).query))
    assert params["iss"] == [live.issuer], params
    forged = (
        callback.split("?")[0]
        + "?"
        + urlencode({**{k: v[0] for k, v in params.items()}, "iss": "https://attacker.example"})
    )
    with rp.trace.step("a callback with another iss"):
        answer = rp.exchange(authorization, forged)
        assert not answer["ok"] and answer["step"] == "code exchange", answer
        assert '"iss"' in answer["error"].get("cause", ""), answer["error"]
        assert not [r for r in answer["requests"] if "/token" in r["url"]], "the code was sent"
    with rp.trace.step("the genuine callback"):
        assert rp.exchange(authorization, callback)["ok"]


def test_a_code_used_twice_is_invalid_grant(rp: RelyingParty) -> None:
    authorization = rp.authorize()
    callback = rp.sign_in(authorization)
    with rp.trace.step("first exchange"):
        assert rp.exchange(authorization, callback)["ok"]
    with rp.trace.step("second exchange of the same code"):
        rp.fails(
            "exchange",
            "code exchange",
            "invalid_grant",
            callback=callback,
            state=authorization["state"],
            nonce=authorization["nonce"],
            code_verifier=authorization["code_verifier"],
        )


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_a_wrong_client_secret_is_invalid_client(
    live: LiveApp, trace: Trace, ca_file: Path | None, auth_method: str
) -> None:
    rp = RelyingParty(live, trace, ca_file, auth_method=auth_method)
    impostor = RelyingParty(
        live, trace, ca_file, auth_method=auth_method, client_secret="not-" + live.client_secret
    )
    authorization = rp.authorize()
    callback = rp.sign_in(authorization)
    with trace.step("exchange with a wrong secret"):
        checks = {
            "callback": callback,
            "state": authorization["state"],
            "nonce": authorization["nonce"],
            "code_verifier": authorization["code_verifier"],
        }
        error = impostor.fails("exchange", "code exchange", "invalid_client", **checks)
        assert error["status"] == 401, error
    with trace.step("the code survives for the real client"):
        assert rp.exchange(authorization, callback)["ok"]


def test_a_tampered_id_token_is_rejected(rp: RelyingParty) -> None:
    """The ID token's ``sub`` is changed in the token response, its signature kept:
    openid-client's signature check (enableNonRepudiationChecks) refuses it."""
    authorization = rp.authorize()
    callback = rp.sign_in(authorization)
    with rp.trace.step("exchange with a tampered ID token"):
        answer = rp.exchange(authorization, callback, tamper_claim="sub")
        assert not answer["ok"] and answer["step"] == "code exchange", answer
        error = answer["error"]
        assert "signature" in f"{error['message']} {error.get('cause')}".lower(), error


def test_prompt_none_without_a_session_is_login_required(rp: RelyingParty, live: LiveApp) -> None:
    authorization = rp.authorize(prompt="none")
    with rp.trace.step("prompt=none in a browser without a session"):
        browser = rp.trace.session()
        response = browser.get(authorization["url"], allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert response.status_code in (302, 303), response.text[:500]
        callback = response.headers["Location"]
        assert callback.startswith(live.redirect_uri + "?"), callback
    with rp.trace.step("openid-client reads the error response"):
        error = rp.fails(
            "exchange",
            "code exchange",
            "login_required",
            callback=callback,
            state=authorization["state"],
            nonce=authorization["nonce"],
            code_verifier=authorization["code_verifier"],
        )
        assert error["name"] == "AuthorizationResponseError", error


def test_an_unregistered_redirect_uri_is_an_error_page(
    live: LiveApp, trace: Trace, ca_file: Path | None
) -> None:
    rp = RelyingParty(live, trace, ca_file, redirect_uri=f"http://127.0.0.1:{free_port()}/other")
    authorization = rp.authorize()
    with trace.step("the authorization request in a browser"):
        browser = trace.session()
        response = browser.get(authorization["url"], allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert response.status_code == 400, (response.status_code, response.headers)
        assert "Location" not in response.headers
        assert response.headers["Content-Type"].startswith("text/html")
        assert "not registered" in response.text
