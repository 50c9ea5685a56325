"""The relying party's side of the browser tests, with ``requests`` and PyJWT only.

It builds the authorization request (code flow, PKCE S256, state, nonce), checks the
callback, and talks to the token and userinfo endpoints with ``client_secret_basic``; ID
tokens are verified against the published JWK Set with PyJWT, never with our own code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests

from tests.support.live import HTTP_TIMEOUT

APP_NAME = "Browser Test App"
PASSWORD = "a long and correct password for the browser"
SCOPE = "openid profile email offline_access"


@dataclass
class LiveApp:
    """The provider, its log, a user and a confidential client allowed refresh tokens."""

    issuer: str
    metadata: dict[str, Any]
    log: Path
    name: str
    client_id: str
    client_secret: str
    redirect_uri: str
    email: str
    password: str


@dataclass
class Authorization:
    url: str
    state: str
    nonce: str
    verifier: str


def authorization_request(live: LiveApp) -> Authorization:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": live.client_id,
        "redirect_uri": live.redirect_uri,
        "scope": SCOPE,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "prompt": "consent",
    }
    url = live.metadata["authorization_endpoint"] + "?" + urlencode(query)
    return Authorization(url=url, state=state, nonce=nonce, verifier=verifier)


def code_from(live: LiveApp, request: Authorization, callback: str) -> str:
    """The code from the callback, after checking its state and issuer (RFC 9207)."""
    assert callback.startswith(live.redirect_uri + "?"), callback
    params = parse_qs(urlsplit(callback).query)
    assert "error" not in params, params
    assert params["state"] == [request.state], params
    assert params["iss"] == [live.issuer], params
    return params["code"][0]


def token_request(live: LiveApp, **form: str) -> requests.Response:
    return requests.post(
        live.metadata["token_endpoint"],
        data=form,
        auth=(live.client_id, live.client_secret),
        timeout=HTTP_TIMEOUT,
    )


def exchange(live: LiveApp, request: Authorization, code: str) -> dict[str, Any]:
    response = token_request(
        live,
        grant_type="authorization_code",
        code=code,
        redirect_uri=live.redirect_uri,
        code_verifier=request.verifier,
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    assert tokens["token_type"].lower() == "bearer", tokens
    assert tokens.get("refresh_token"), "offline_access granted, but no refresh token"
    return tokens


def refresh(live: LiveApp, refresh_token: str) -> requests.Response:
    return token_request(live, grant_type="refresh_token", refresh_token=refresh_token)


def verified_id_token(live: LiveApp, id_token: str, nonce: str | None) -> dict[str, Any]:
    """PyJWT checks signature, iss, aud and expiry against the provider's JWK Set."""
    header = jwt.get_unverified_header(id_token)
    keys = requests.get(live.metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()["keys"]
    key = next(k for k in keys if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        id_token,
        jwt.PyJWK(key).key,
        algorithms=[header["alg"]],
        audience=live.client_id,
        issuer=live.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat"]},
    )
    if nonce is not None:
        assert claims["nonce"] == nonce, claims
    return claims


def userinfo(live: LiveApp, access_token: str) -> dict[str, Any]:
    response = requests.get(
        live.metadata["userinfo_endpoint"],
        headers={"Authorization": "Bearer " + access_token},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    claims: dict[str, Any] = response.json()
    return claims


def userinfo_status(live: LiveApp, access_token: str) -> int:
    response = requests.get(
        live.metadata["userinfo_endpoint"],
        headers={"Authorization": "Bearer " + access_token},
        timeout=HTTP_TIMEOUT,
    )
    return response.status_code
