"""What a successful exchange gives (T-43), credentials at rest (T-45) and the ID token
(T-46).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time

import jwt
import pytest

from oidc_core import Provider
from oidc_core.storage.models import ALL_MODELS
from tests.support.flow import RP, Flow, verify_id_token
from tests.support.token_endpoint import assert_error

ACCESS_TOKEN = re.compile(r"[A-Za-z0-9_-]{43,}")


def all_stored_text(provider: Provider) -> str:
    """Every cell of every table, as text, for looking for credentials in the clear."""
    db = provider.storage.database
    cells = []
    for model in ALL_MODELS:
        for row in db.execute_sql(f"SELECT * FROM {model._meta.table_name}").fetchall():
            cells.extend(str(cell) for cell in row)
    return "\n".join(cells)


# -- T-43 the success response ------------------------------------------------------------------


def test_t43_success_response_shape(flow: Flow) -> None:
    response = flow.token(flow.code_with_pkce())
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "id_token"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    assert set(body["scope"].split()) == {"openid", "profile", "email"}
    assert ACCESS_TOKEN.fullmatch(body["access_token"])


def test_t43_access_tokens_are_unique(flow: Flow) -> None:
    tokens = {flow.token(flow.authorize()["code"]).json["access_token"] for _ in range(3)}
    assert len(tokens) == 3


def test_t43_scope_is_the_consented_one(flow: Flow) -> None:
    response = flow.token(flow.authorize(scope="openid email")["code"], scope="openid profile")
    assert response.status_int == 200
    assert set(response.json["scope"].split()) == {"openid", "email"}


# -- T-45 credentials at rest and in logs ---------------------------------------------------------


def test_t45_client_secret_is_stored_as_sha256_digest(provider: Provider, client_a: RP) -> None:
    digest = provider.storage.database.execute_sql(
        "SELECT secret_digest FROM oidc_client"
    ).fetchone()[0]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(client_a.client_secret.encode()).hexdigest()
    assert client_a.client_secret not in all_stored_text(provider)


def test_t45_secret_reset_stores_only_the_new_digest(flow: Flow, provider: Provider) -> None:
    old_secret = flow.client.client_secret
    new_secret = provider.storage.clients.reset_secret(flow.client.client_id)
    stored = all_stored_text(provider)
    assert old_secret not in stored
    assert new_secret not in stored
    assert hashlib.sha256(new_secret.encode()).hexdigest() in stored
    code = flow.authorize()["code"]
    assert_error(flow.token(code), 401, "invalid_client")
    flow.client.client_secret = new_secret
    assert flow.token(code).status_int == 200


def test_t45_codes_and_access_tokens_are_stored_only_as_digests(
    flow: Flow, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = flow.code_with_pkce()
    access_token = flow.token(code).json["access_token"]
    assert flow.token(code).status_int == 400  # the replay path logs too
    stored = all_stored_text(provider)
    for value in (code, access_token, flow.client.client_secret):
        assert value not in stored
    assert hashlib.sha256(code.encode()).hexdigest() in stored
    assert hashlib.sha256(access_token.encode()).hexdigest() in stored
    # oauthlib's own DEBUG records print the code it generated ("Saving grant {...}"), so
    # its loggers are checked from INFO (the production level); ours and peewee's at DEBUG.
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO or not record.name.startswith("oauthlib")
    )
    for value in (code, access_token, flow.client.client_secret, flow.user.password):
        assert value not in logged


# -- T-46 the ID token ---------------------------------------------------------------------------


def test_t46_id_token_claims(flow: Flow) -> None:
    nonce = "n-0S6_WzA2Mj+/ \u00e9"
    body = flow.token(flow.code_with_pkce(nonce=nonce)).json
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    assert claims["iss"] == flow.issuer
    assert claims["aud"] in (flow.client.client_id, [flow.client.client_id])
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1:
        assert claims["azp"] == flow.client.client_id
    assert claims["exp"] > claims["iat"]
    assert abs(claims["iat"] - time.time()) < 300
    assert claims["nonce"] == nonce
    assert isinstance(claims["auth_time"], int)
    assert claims["auth_time"] <= claims["iat"]
    info = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    ).json
    assert claims["sub"] == info["sub"] == flow.user.subject


def test_t46_id_token_header(flow: Flow) -> None:
    id_token = flow.token(flow.authorize()["code"]).json["id_token"]
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    assert not {"jwk", "jku", "x5u", "x5c", "crit"} & set(header)
    kids = [key["kid"] for key in flow.app.get("/jwks").json["keys"]]
    assert header["kid"] in kids


def test_t46_at_hash_matches_the_access_token(flow: Flow) -> None:
    body = flow.token(flow.authorize()["code"]).json
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    left_half = hashlib.sha256(body["access_token"].encode("ascii")).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(left_half).rstrip(b"=").decode()


def test_t46_no_nonce_sent_means_no_nonce_claim(flow: Flow) -> None:
    body = flow.token(flow.authorize(nonce=None)["code"]).json
    assert "nonce" not in verify_id_token(flow.app, body["id_token"], flow.client.client_id)


def test_t46_sub_is_stable_and_audience_is_per_client(flow: Flow, client_b: RP) -> None:
    first = flow.token(flow.authorize()["code"]).json["id_token"]
    second = flow.token(flow.authorize()["code"]).json["id_token"]
    other = Flow(flow.app, client_b, flow.user)
    third = other.token(other.authorize()["code"]).json["id_token"]
    subs = {
        verify_id_token(flow.app, first, flow.client.client_id)["sub"],
        verify_id_token(flow.app, second, flow.client.client_id)["sub"],
        verify_id_token(flow.app, third, client_b.client_id)["sub"],
    }
    assert subs == {flow.user.subject}
    with pytest.raises(jwt.InvalidAudienceError):
        verify_id_token(flow.app, third, flow.client.client_id)
