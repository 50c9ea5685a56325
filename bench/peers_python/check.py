"""The correctness check of a Python peer, before it is timed.

Signs the bench user in (the peer's own login), asks /authorize for a code (PKCE S256,
nonce), exchanges it at the token endpoint with the client's credentials (HTTP Basic),
verifies the ID token with PyJWT against the peer's JWKS (signature RS256, iss, aud, nonce,
exp) and replays the same code, which must be refused.  Raises ``PeerBroken`` on the first
failure.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt


class PeerBroken(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class PeerClient:
    base: str  # http://127.0.0.1:PORT, also the issuer
    client_id: str
    client_secret: str
    redirect_uri: str
    login_path: str  # POST username, password (form): a session cookie
    login_fields: dict[str, str]
    authorize_path: str = "/authorize"
    token_path: str = "/token"
    jwks_path: str = "/jwks"
    issuer: str = ""  # default: base
    scope: str = "openid profile email"

    def basic(self) -> str:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _post_token(peer: PeerClient, fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        peer.base + peer.token_path,
        data=urlencode(fields).encode(),
        headers={"Authorization": peer.basic()},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as answer:
        body = answer.read()
        try:
            return answer.code, json.loads(body)
        except ValueError:
            return answer.code, {"body": body[:200].decode(errors="replace")}


def sign_in(peer: PeerClient) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    url = peer.base + peer.login_path
    try:
        opener.open(url, data=urlencode(peer.login_fields).encode(), timeout=10)
    except urllib.error.HTTPError as answer:
        if answer.code not in (302, 303):
            raise PeerBroken(f"login answered {answer.code}") from None
    if not list(jar):
        raise PeerBroken("no session cookie after login")
    return opener


def authorization_code(
    peer: PeerClient, opener: urllib.request.OpenerDirector, nonce: str, verifier: str
) -> str:
    query = {
        "client_id": peer.client_id,
        "response_type": "code",
        "scope": peer.scope,
        "redirect_uri": peer.redirect_uri,
        "state": "check-state",
        "nonce": nonce,
        "code_challenge": _s256(verifier),
        "code_challenge_method": "S256",
    }
    url = peer.base + peer.authorize_path + "?" + urlencode(query)
    try:
        opener.open(url, timeout=10)
        raise PeerBroken(f"no redirect from {peer.authorize_path}")
    except urllib.error.HTTPError as answer:
        location = answer.headers.get("Location") or ""
        if answer.code not in (302, 303) or not location.startswith(peer.redirect_uri):
            raise PeerBroken(f"authorize answered {answer.code} to {location!r}") from None
    params = parse_qs(urlsplit(location).query)
    if params.get("state") != ["check-state"] or "code" not in params:
        raise PeerBroken(f"authorize redirected to {location}")
    return params["code"][0]


def check(peer: PeerClient) -> dict[str, Any]:
    """Run the check; answer the verified ID token's claims."""
    opener = sign_in(peer)
    nonce, verifier = secrets.token_urlsafe(12), secrets.token_urlsafe(48)
    code = authorization_code(peer, opener, nonce, verifier)
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": peer.redirect_uri,
        "code_verifier": verifier,
    }
    status, answer = _post_token(peer, exchange)
    if status != 200 or "id_token" not in answer or "access_token" not in answer:
        raise PeerBroken(f"token endpoint answered {status}: {answer}")
    jwks = jwt.PyJWKClient(peer.base + peer.jwks_path)
    try:
        key = jwks.get_signing_key_from_jwt(answer["id_token"])
        claims: dict[str, Any] = jwt.decode(
            answer["id_token"],
            key.key,
            algorithms=["RS256"],
            audience=peer.client_id,
            issuer=peer.issuer or peer.base,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise PeerBroken(f"ID token: {error}") from None
    if claims.get("nonce") != nonce:
        raise PeerBroken(f"ID token nonce {claims.get('nonce')!r}, sent {nonce!r}")
    status, replay = _post_token(peer, exchange)
    if status == 200 or replay.get("error") != "invalid_grant":
        raise PeerBroken(f"replayed code answered {status}: {replay}")
    return claims
