"""JWT access tokens (RFC 9068) for a client registered with ``access_token_format: jwt``.

Verified with PyJWT against the published JWKS (``typ: at+jwt`` checked, every claim).  A JWT
access token is stored as a digest like an opaque one, so it works at /userinfo,
/introspect, /revoke and is revoked with its grant (code replay, refresh token reuse:
SECURITY-CHECKLIST T-48, conformance ``oidcc-codereuse-30seconds``).  Opaque stays the
default, and discovery has no field for the format (there is no standard one).
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import jwt
import pytest
import webtest

from oidc_core import registration
from oidc_core.records import ClientFields
from oidc_core.storage import Storage
from tests.support.flow import RP, Account, Flow, issuer_of, verify_id_token
from tests.support.tokens import offline_client, offline_flow, post_as, refresh, userinfo_status

JWT_GRANTS = ("authorization_code", "refresh_token", "client_credentials")


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_client(storage, "JWT RP", access_token_format="jwt", grant_types=JWT_GRANTS)


@pytest.fixture
def jflow(app: webtest.TestApp, rp: RP, alice: Account) -> Flow:
    return offline_flow(app, rp, alice)


def verify_access_token(app: webtest.TestApp, token: str) -> dict[str, Any]:
    """RFC 9068 section 4: typ, signature with a published key, iss, aud, exp."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt", header
    assert header["alg"] == "RS256" and set(header) == {"alg", "kid", "typ"}, header
    key = next(k for k in app.get("/jwks").json["keys"] if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=issuer_of(app) + "/userinfo",
        issuer=issuer_of(app),
        options={"require": ["iss", "exp", "aud", "sub", "iat", "jti"]},
    )
    return claims


def tokens(flow: Flow) -> dict[str, Any]:
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    body: dict[str, Any] = response.json
    return body


def test_code_flow_gives_an_rfc_9068_access_token(jflow: Flow, rp: RP, alice: Account) -> None:
    before = int(time.time())
    body = tokens(jflow)
    claims = verify_access_token(jflow.app, body["access_token"])
    id_token = verify_id_token(jflow.app, body["id_token"], rp.client_id)

    assert set(claims) == {
        "iss", "exp", "aud", "sub", "client_id", "iat", "jti", "scope", "auth_time",
    }  # fmt: skip
    assert claims["sub"] == alice.subject == id_token["sub"]
    assert claims["client_id"] == rp.client_id
    assert claims["scope"] == body["scope"] == "openid profile offline_access"
    assert claims["auth_time"] == id_token["auth_time"]
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert len(claims["jti"]) >= 43
    assert body["token_type"] == "Bearer"
    digest = hashlib.sha256(body["access_token"].encode("ascii")).digest()
    assert id_token["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    # the refresh token stays opaque
    assert body["refresh_token"].count(".") == 0 and len(body["refresh_token"]) == 43


def test_jwt_access_token_works_everywhere_like_an_opaque_one(
    jflow: Flow, rp: RP, alice: Account, storage: Storage
) -> None:
    token = tokens(jflow)["access_token"]
    userinfo = jflow.app.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert userinfo.json["sub"] == alice.subject
    introspected = post_as(jflow.app, "/introspect", rp, {"token": token}).json
    assert introspected["active"] is True and introspected["sub"] == alice.subject
    # stored as a digest, never in clear
    found = storage.database.execute_sql(
        f"SELECT COUNT(*) FROM oidc_access_token WHERE token_digest = {storage.database.param}",
        (token,),
    ).fetchone()[0]
    assert found == 0

    assert post_as(jflow.app, "/revoke", rp, {"token": token}).status_int == 200
    assert userinfo_status(jflow.app, token) == 401
    assert post_as(jflow.app, "/introspect", rp, {"token": token}).json == {"active": False}
    # still a validly signed, unexpired JWT: only the provider knows it is revoked
    verify_access_token(jflow.app, token)


def test_a_replayed_code_revokes_its_jwt_access_token(jflow: Flow) -> None:
    code = jflow.authorize()["code"]
    token = jflow.token(code).json["access_token"]
    assert userinfo_status(jflow.app, token) == 200
    assert jflow.token(code).status_int == 400
    assert userinfo_status(jflow.app, token) == 401


def test_refresh_returns_a_new_jwt_and_reuse_revokes_it(jflow: Flow, rp: RP) -> None:
    first = tokens(jflow)
    second = refresh(jflow.app, rp, first["refresh_token"], scope="openid")
    assert second.status_int == 200, second.text
    new = second.json["access_token"]
    claims = verify_access_token(jflow.app, new)
    old_claims = verify_access_token(jflow.app, first["access_token"])
    assert claims["jti"] != old_claims["jti"]
    assert claims["scope"] == "openid"  # narrowed
    assert (claims["sub"], claims["auth_time"]) == (old_claims["sub"], old_claims["auth_time"])
    assert userinfo_status(jflow.app, new) == 200

    refresh(jflow.app, rp, first["refresh_token"])  # reuse: the grant dies
    assert userinfo_status(jflow.app, new) == 401


def test_client_credentials_jwt_has_the_client_as_subject(app: webtest.TestApp, rp: RP) -> None:
    data = {"grant_type": "client_credentials", "scope": "profile"}
    response = post_as(app, "/token", rp, data)
    assert response.status_int == 200, response.text
    claims = verify_access_token(app, response.json["access_token"])
    assert claims["sub"] == claims["client_id"] == rp.client_id  # RFC 9068 section 2.2
    assert claims["scope"] == "profile"
    assert "auth_time" not in claims
    assert userinfo_status(app, response.json["access_token"]) == 401  # no user


def test_opaque_is_the_default(flow: Flow, client_a: RP, storage: Storage) -> None:
    assert storage.clients.by_client_id(client_a.client_id).access_token_format == "opaque"  # type: ignore[union-attr]
    token = tokens(flow)["access_token"]
    assert "." not in token and len(token) == 43
    assert userinfo_status(flow.app, token) == 200


def test_discovery_has_no_access_token_format(app: webtest.TestApp) -> None:
    document = app.get("/.well-known/openid-configuration").json
    assert not [key for key in document if "access_token" in key and "format" in key]


@pytest.mark.parametrize("value", ["JWT", "at+jwt", 1, True, ["jwt"], "opaque "])
def test_unknown_formats_are_refused(value: Any) -> None:
    with pytest.raises(registration.InvalidMetadata) as caught:
        registration.client_fields(
            {
                "client_name": "x",
                "redirect_uris": ["https://x.example/cb"],
                "access_token_format": value,
            }
        )
    assert caught.value.field == "access_token_format"


def test_a_client_can_switch_formats(flow: Flow, client_a: RP, storage: Storage) -> None:
    current = storage.clients.by_client_id(client_a.client_id)
    assert current is not None
    fields = registration.client_fields({"access_token_format": "jwt"}, ClientFields.of(current))
    storage.clients.update(client_a.client_id, fields)
    verify_access_token(flow.app, tokens(flow)["access_token"])
