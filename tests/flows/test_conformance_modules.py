"""The Basic OP plan's token, UserInfo and redirect URI modules, one test each, named after
the module (CONFORMANCE-CHECKLIST.md); the authorization request's modules are in
``test_conformance_basic_op_*.py``.  ID tokens are verified with PyJWT against the JWKS.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import jwt
import webtest

from tests.support.flow import Flow, verify_id_token


def tokens(flow: Flow, auth: str = "basic") -> dict[str, Any]:
    callback = flow.authorize(state="xyz")
    assert callback["state"] == "xyz" and callback["iss"] == flow.issuer
    response = flow.token(callback["code"], auth=auth)
    assert response.status_int == 200, response.text
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.json
    assert isinstance(body["access_token"], str) and body["token_type"].lower() == "bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    return body


def standard_id_token_checks(flow: Flow, id_token: str) -> dict[str, Any]:
    """PerformStandardIdTokenChecks: signature against jwks_uri, iss, aud, exp, iat, sub."""
    claims = verify_id_token(flow.app, id_token, flow.client.client_id)
    assert claims["iat"] <= claims["exp"] and isinstance(claims["sub"], str)
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1:
        assert claims["azp"] == flow.client.client_id
    return claims


def test_oidcc_server(flow: Flow) -> None:
    body = tokens(flow)
    claims = standard_id_token_checks(flow, body["id_token"])
    info = flow.app.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_int == 200 and info.json["sub"] == claims["sub"]


def test_oidcc_server_client_secret_post(flow: Flow) -> None:
    body = tokens(flow, auth="post")
    standard_id_token_checks(flow, body["id_token"])


def test_oidcc_idtoken_signature(flow: Flow) -> None:
    """No algorithm requested: RS256 with a kid that the JWK Set holds."""
    header = jwt.get_unverified_header(tokens(flow)["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] in {key["kid"] for key in flow.app.get("/jwks").json["keys"]}


def test_oidcc_idtoken_unsigned_is_not_offered(app: webtest.TestApp) -> None:
    """Unsigned ID tokens are never issued, so discovery does not offer `none`."""
    metadata = app.get("/.well-known/openid-configuration").json
    assert "none" not in metadata["id_token_signing_alg_values_supported"]


def test_oidcc_userinfo_get(flow: Flow) -> None:
    body = tokens(flow)
    sub = standard_id_token_checks(flow, body["id_token"])["sub"]
    response = flow.app.get(
        "/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.content_type == "application/json" and response.json["sub"] == sub


def test_oidcc_userinfo_post_header(flow: Flow) -> None:
    body = tokens(flow)
    sub = standard_id_token_checks(flow, body["id_token"])["sub"]
    response = flow.app.post(
        "/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert response.status_int == 200 and response.json["sub"] == sub


def test_oidcc_userinfo_post_body(flow: Flow) -> None:
    body = tokens(flow)
    sub = standard_id_token_checks(flow, body["id_token"])["sub"]
    response = flow.app.post("/userinfo", {"access_token": body["access_token"]})
    assert response.status_int == 200 and response.json["sub"] == sub


def test_oidcc_codereuse(flow: Flow) -> None:
    callback = flow.authorize()
    assert flow.token(callback["code"]).status_int == 200
    again = flow.token(callback["code"])
    assert again.status_int == 400 and again.content_type == "application/json"
    assert again.json["error"] == "invalid_grant"
    assert not set("\r\n\t") & set(again.json.get("error_description", ""))


def test_oidcc_codereuse_30seconds(flow: Flow) -> None:
    """The replay is refused whenever it comes, and it revokes the first exchange's token."""
    callback = flow.authorize()
    first = flow.token(callback["code"]).json
    assert flow.token(callback["code"]).json["error"] == "invalid_grant"
    revoked = flow.app.get(
        "/userinfo",
        headers={"Authorization": f"Bearer {first['access_token']}"},
        expect_errors=True,
    )
    assert revoked.status_int == 401


def test_oidcc_ensure_registered_redirect_uri(flow: Flow) -> None:
    """An error page, never a redirect, for an unregistered redirect_uri."""
    response = flow.start(redirect_uri="https://rp.example/not-registered", state="s")
    assert response.status_int == 400 and "Location" not in response.headers
    assert "text/html" in response.content_type
    sent = flow.app.get(
        "/authorize?"
        + urlencode({**flow.authorize_params(), "redirect_uri": "https://evil.example/cb"}),
        expect_errors=True,
    )
    assert sent.status_int == 400 and "Location" not in sent.headers
