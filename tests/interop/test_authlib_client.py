"""A real relying-party library (Authlib's requests client) against a real server.

The provider runs as ``oidc-core serve`` (gunicorn, two workers) on a free loopback port,
set up through the CLI exactly as an operator would.  A ``requests.Session`` plays the
browser; Authlib builds the authorization request (state, nonce, PKCE S256), checks the
callback's state and exchanges the code.  ID tokens are verified independently with
joserfc against the published JWK Set, and with Authlib's own ``CodeIDToken`` rules.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from tests.support.live import HTTP_TIMEOUT, free_port, provider_at, through_provider

pytestmark = pytest.mark.server

SCOPE = "openid profile email"
PASSWORD = "a long and correct password for interop"


@dataclass
class Server:
    issuer: str
    metadata: dict[str, Any]
    client_id: str
    client_secret: str
    redirect_uri: str
    email: str
    subject: str


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    with provider_at(tmp_path_factory.mktemp("interop"), request) as live:
        email = f"interop-{secrets.token_hex(6)}@example.com"
        subject = live.create_user(email, PASSWORD, "Interop Tester")
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        client_id, client_secret = live.create_client("Authlib interop", redirect_uri)
        yield Server(
            issuer=live.issuer,
            metadata=live.metadata,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            email=email,
            subject=subject,
        )


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """Authlib refuses plain http unless told; the server is on loopback only."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def _session(server: Server, **kwargs: Any) -> OAuth2Session:
    options: dict[str, Any] = {
        "client_secret": server.client_secret,
        "scope": SCOPE,
        "redirect_uri": server.redirect_uri,
        "code_challenge_method": "S256",
    }
    options.update(kwargs)
    return OAuth2Session(server.client_id, **options)


def _browse(server: Server, authorization_url: str) -> str:
    """Play the browser from the authorization URL to the callback; its URL (not followed)."""
    browser = requests.Session()
    response = browser.get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    return through_provider(browser, server.issuer, response, server.email, PASSWORD)


def _authorize(server: Server, session: OAuth2Session) -> tuple[str, str, str, str]:
    """Authorization request through Authlib; (callback URL, state, nonce, code_verifier)."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        server.metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"] == [nonce]
    callback = _browse(server, url)
    assert callback.startswith(server.redirect_uri + "?"), callback
    params = parse_qs(urlsplit(callback).query)
    assert params["state"] == [state]
    assert params["iss"] == [server.issuer]
    return callback, state, nonce, verifier


def _fetch_token(
    server: Server, session: OAuth2Session, callback: str, state: str, verifier: str
) -> dict[str, Any]:
    return dict(
        session.fetch_token(
            server.metadata["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=verifier,
        )
    )


def _jwks(server: Server) -> dict[str, Any]:
    response = requests.get(server.metadata["jwks_uri"], timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return dict(response.json())


def _verify_id_token(server: Server, id_token: str, nonce: str) -> dict[str, Any]:
    """Signature and claims with joserfc, as a strict RP would."""
    key_set = KeySet.import_key_set(_jwks(server))
    algorithms = server.metadata["id_token_signing_alg_values_supported"]
    token = jwt.decode(id_token, key_set, algorithms=algorithms)
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] in {key["kid"] for key in _jwks(server)["keys"]}
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": server.issuer},
        aud={"essential": True, "value": server.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(token.claims)
    return dict(token.claims)


def _authlib_validate(server: Server, token: dict[str, Any], nonce: str) -> CodeIDToken:
    """What Authlib's ``OpenIDMixin.parse_id_token`` does for the framework integrations."""
    alg_values = server.metadata["id_token_signing_alg_values_supported"]
    decoded = jwt.decode(
        token["id_token"],
        KeySet.import_key_set(_jwks(server)),
        registry=JWSRegistry(algorithms=alg_values, strict_check_header=False),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"values": [server.metadata["issuer"]]}},
        {"nonce": nonce, "client_id": server.client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=120)
    return claims


def test_discovery_matches_the_issuer(server: Server) -> None:
    meta = server.metadata
    assert meta["issuer"] == server.issuer
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert meta[name].startswith(server.issuer + "/"), (name, meta[name])
    assert "S256" in meta["code_challenge_methods_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"]
    )


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_code_flow_with_pkce(server: Server, auth_method: str) -> None:
    session = _session(server, token_endpoint_auth_method=auth_method)
    callback, state, nonce, verifier = _authorize(server, session)
    token = _fetch_token(server, session, callback, state, verifier)

    assert token["token_type"].lower() == "bearer"
    assert isinstance(token["access_token"], str)
    assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
    assert set(token["scope"].split()) == set(SCOPE.split())
    claims = _verify_id_token(server, token["id_token"], nonce)
    assert claims["sub"] == server.subject
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["exp"] > time.time()

    authlib_claims = _authlib_validate(server, token, nonce)
    assert authlib_claims["sub"] == server.subject
    assert "at_hash" in authlib_claims

    response = session.get(server.metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    info = response.json()
    assert info["sub"] == claims["sub"]
    assert info["email"] == server.email
    assert info["email_verified"] is True
    assert info["name"] == "Interop Tester"


def test_authlib_rejects_a_wrong_nonce(server: Server) -> None:
    """The Authlib validation is live: the same token fails with another nonce."""
    session = _session(server)
    callback, state, _nonce, verifier = _authorize(server, session)
    token = _fetch_token(server, session, callback, state, verifier)
    with pytest.raises(Exception, match="nonce"):
        _authlib_validate(server, token, "not-the-nonce")
    with pytest.raises(Exception, match="nonce"):
        _verify_id_token(server, token["id_token"], "not-the-nonce")


def test_second_use_of_a_code_is_invalid_grant(server: Server) -> None:
    session = _session(server)
    callback, state, _nonce, verifier = _authorize(server, session)
    first = _fetch_token(server, session, callback, state, verifier)
    assert "access_token" in first

    again = _session(server)
    with pytest.raises(OAuthError) as caught:
        _fetch_token(server, again, callback, state, verifier)
    assert caught.value.error == "invalid_grant"


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_wrong_client_secret_is_invalid_client(server: Server, auth_method: str) -> None:
    session = _session(server, token_endpoint_auth_method=auth_method)
    callback, state, _nonce, verifier = _authorize(server, session)
    wrong = _session(
        server, client_secret="not-" + server.client_secret, token_endpoint_auth_method=auth_method
    )
    with pytest.raises(OAuthError) as caught:
        _fetch_token(server, wrong, callback, state, verifier)
    assert caught.value.error == "invalid_client"
    # The code survives a failed client authentication: the real client can still use it.
    token = _fetch_token(server, session, callback, state, verifier)
    assert "id_token" in token


def test_wrong_code_verifier_is_invalid_grant(server: Server) -> None:
    session = _session(server)
    callback, state, _nonce, _verifier = _authorize(server, session)
    with pytest.raises(OAuthError) as caught:
        _fetch_token(server, session, callback, state, secrets.token_urlsafe(48))
    assert caught.value.error == "invalid_grant"


def test_unregistered_redirect_uri_is_an_error_page(server: Server) -> None:
    session = _session(server, redirect_uri="http://127.0.0.1:9/not-registered")
    url, _state = session.create_authorization_url(
        server.metadata["authorization_endpoint"],
        code_verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(16),
    )
    response = requests.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "not registered" in response.text
