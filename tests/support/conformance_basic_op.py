"""Helpers for ``test_conformance_basic_op_*.py``: ID tokens verified with PyJWT against
the published JWKS, redirect errors, earlier logins, forged ``id_token_hint`` values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import webtest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oidc_core import Provider
from tests.support.flow import Flow, query_of, verify_id_token

CB = "https://rp.example/cb"
STATE = "st4te-Ω"
PROFILE = {"name", "given_name", "family_name", "preferred_username", "locale", "updated_at"}


def id_token_of(flow: Flow, callback: dict[str, str]) -> dict[str, Any]:
    response = flow.token(callback["code"])
    assert response.status_int == 200, response.text
    claims = verify_id_token(flow.app, response.json["id_token"], flow.client.client_id)
    claims["_raw"] = response.json["id_token"]
    claims["_access_token"] = response.json["access_token"]
    return claims


def userinfo(flow: Flow, token: dict[str, Any]) -> dict[str, Any]:
    response = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + token["_access_token"]}
    )
    assert response.status_int == 200
    info: dict[str, Any] = response.json
    assert info["sub"] == token["sub"]
    return info


def redirect_error(
    flow: Flow, response: webtest.TestResponse, error: str, status: int = 302
) -> dict[str, str]:
    """A redirect to the registered URI with ``error``, the exact state, iss and no code
    (``status`` 303 after a form's POST)."""
    assert response.status_int == status, (response.status, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(CB + "?"), location
    callback = query_of(location)
    assert callback["error"] == error, callback
    assert callback["iss"] == flow.issuer
    assert callback.get("state") == STATE
    assert "code" not in callback
    for char in "\r\n\t":
        assert char not in callback.get("error_description", "")
    return callback


def straight_back(flow: Flow, **overrides: Any) -> dict[str, str]:
    """The authorization request is answered at once, without any page."""
    response = flow.start(**overrides)
    assert response.status_int == 302, (response.status, response.headers.get("Location"))
    assert response.headers["Location"].startswith(CB + "?")
    return query_of(response.headers["Location"])


def asks_to_log_in(flow: Flow, **overrides: Any) -> webtest.TestResponse:
    """The request is parked and the browser sent to the login page; returns that page."""
    response = flow.start(**overrides)
    assert response.status_int == 303, (response.status, response.headers.get("Location"))
    assert response.headers["Location"].startswith(flow.issuer + "/login?interaction=")
    page = flow.app.get(response.headers["Location"])
    assert page.status_int == 200 and 'name="password"' in page.text
    return page


def code_rows(provider: Provider) -> int:
    sql = "SELECT COUNT(*) FROM oidc_authorization_code"
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged_hints(flow: Flow, genuine: str, client_b_token: str) -> dict[str, str]:
    """T-52: each a token we must refuse as a hint."""
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    jwks = flow.app.get("/jwks").json
    our_jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    public = jwt.PyJWK(our_jwk)
    public_pem = public.key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    head, body, signature = genuine.split(".")
    none_header = _b64(json.dumps({"alg": "none", "kid": header["kid"]}).encode())
    return {
        "alg none": f"{none_header}.{body}.",
        "HS256 with our public key (PEM)": _hs256(claims, header["kid"], public_pem),
        "HS256 with our public key (JWK)": _hs256(
            claims, header["kid"], json.dumps(our_jwk).encode()
        ),
        "attacker key embedded as jwk": jwt.encode(
            claims, attacker, algorithm="RS256", headers={"kid": header["kid"], "jwk": attacker_jwk}
        ),
        "attacker key with our kid": jwt.encode(
            claims, attacker, algorithm="RS256", headers={"kid": header["kid"]}
        ),
        "jku elsewhere": jwt.encode(
            claims,
            attacker,
            algorithm="RS256",
            headers={"kid": header["kid"], "jku": "https://evil.example/jwks"},
        ),
        "x5u elsewhere": jwt.encode(
            claims,
            attacker,
            algorithm="RS256",
            headers={"kid": header["kid"], "x5u": "https://evil.example/cert"},
        ),
        "unknown kid": jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": "nope"}),
        "crit bork": f"{_b64(json.dumps({**header, 'crit': ['bork']}).encode())}.{body}."
        + signature,
        "body changed": f"{head}.{_b64(json.dumps({**claims, 'sub': 'x'}).encode())}.{signature}",
        "signature cut": f"{head}.{body}.{signature[:-4]}",
        "no signature": f"{head}.{body}.",
        "another client's token (wrong aud)": client_b_token,
        "garbage": "garbage",
        "two parts": f"{head}.{body}",
        "not base64": "%%%.%%%.%%%",
        "header not json": f"{_b64(b'[1,2]')}.{body}.{signature}",
    }


def _hs256(claims: dict[str, Any], kid: str, secret: bytes) -> str:
    head = _b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
    signing = f"{head}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(mac)}"
