"""Refresh tokens: RFC 6749 section 6, OIDC Core 11 and 12, RFC 9700 section 4.14.2.

SECURITY-CHECKLIST T-47 (bound to the client; conformance module ``oidcc-refresh-token``),
T-48 (rotation and reuse detection), T-49 (no widening), T-50 (expiry), T-51 (the refreshed
ID token), T-58 (concurrent use), R-RT-1..4, R-ID-2.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import make_client
from tests.support.flow import RP, Account, Flow, verify_id_token
from tests.support.token_endpoint import assert_error
from tests.support.tokens import (
    offline_client,
    offline_flow,
    offline_tokens,
    refresh,
    userinfo_status,
)


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_client(storage)


@pytest.fixture
def oflow(app: webtest.TestApp, rp: RP, alice: Account) -> Flow:
    return offline_flow(app, rp, alice)


def rows(provider: Provider, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return list(provider.storage.database.execute_sql(sql, params).fetchall())


def param(provider: Provider) -> str:
    return str(provider.storage.database.param)


def live_refresh_tokens(provider: Provider) -> int:
    sql = "SELECT COUNT(*) FROM oidc_refresh_token WHERE used_at IS NULL AND revoked_at IS NULL"
    return int(rows(provider, sql)[0][0])


def set_expiry(provider: Provider, column: str, value: int) -> None:
    provider.storage.database.execute_sql(
        f"UPDATE oidc_refresh_token SET {column} = {param(provider)}", (value,)
    )


def test_offline_access_gets_a_refresh_token_that_rotates(oflow: Flow, rp: RP) -> None:
    first = offline_tokens(oflow)
    assert first["refresh_token"] and first["refresh_token"] != first["access_token"]
    assert len(first["refresh_token"]) >= 43  # 256 bits, URL-safe

    response = refresh(oflow.app, rp, first["refresh_token"])

    assert response.status_int == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    second = response.json
    assert second["token_type"] == "Bearer"
    assert second["expires_in"] > 0
    assert second["refresh_token"] not in (first["refresh_token"], first["access_token"])
    assert second["access_token"] != first["access_token"]
    assert userinfo_status(oflow.app, second["access_token"]) == 200
    third = refresh(oflow.app, rp, second["refresh_token"], auth="post")
    assert third.status_int == 200, third.text


def test_refresh_tokens_are_stored_as_digests(oflow: Flow, provider: Provider) -> None:
    token = offline_tokens(oflow)["refresh_token"]
    stored = rows(provider, "SELECT token_digest FROM oidc_refresh_token")
    assert len(stored) == 1
    assert token not in stored[0][0] and len(stored[0][0]) == 64


def test_t48_reusing_a_used_refresh_token_revokes_the_whole_grant(
    oflow: Flow, rp: RP, provider: Provider
) -> None:
    first = offline_tokens(oflow)
    second = refresh(oflow.app, rp, first["refresh_token"]).json
    assert userinfo_status(oflow.app, second["access_token"]) == 200

    assert_error(refresh(oflow.app, rp, first["refresh_token"]), 400, "invalid_grant")

    assert_error(refresh(oflow.app, rp, second["refresh_token"]), 400, "invalid_grant")
    assert userinfo_status(oflow.app, first["access_token"]) == 401
    assert userinfo_status(oflow.app, second["access_token"]) == 401
    assert live_refresh_tokens(provider) == 0


def test_reuse_revokes_only_that_grant(oflow: Flow, rp: RP) -> None:
    other = offline_tokens(oflow)
    first = offline_tokens(oflow)
    refresh(oflow.app, rp, first["refresh_token"])
    refresh(oflow.app, rp, first["refresh_token"])  # replay: this grant dies

    assert userinfo_status(oflow.app, other["access_token"]) == 200
    assert refresh(oflow.app, rp, other["refresh_token"]).status_int == 200


def test_a_replayed_code_revokes_its_refresh_token(oflow: Flow, rp: RP) -> None:
    code = oflow.authorize()["code"]
    tokens = oflow.token(code).json
    assert_error(oflow.token(code), 400, "invalid_grant")
    assert_error(refresh(oflow.app, rp, tokens["refresh_token"]), 400, "invalid_grant")


def test_t47_refresh_token_is_bound_to_its_client(oflow: Flow, rp: RP, storage: Storage) -> None:
    # conformance module oidcc-refresh-token: another client cannot use it
    other = offline_client(storage, "Other offline RP")
    tokens = offline_tokens(oflow)

    assert_error(refresh(oflow.app, other, tokens["refresh_token"]), 400, "invalid_grant")
    assert_error(
        refresh(oflow.app, other, tokens["refresh_token"], auth="post"), 400, "invalid_grant"
    )

    # nothing changed for its own client
    assert refresh(oflow.app, rp, tokens["refresh_token"]).status_int == 200


def test_refresh_needs_client_authentication(oflow: Flow, rp: RP) -> None:
    token = offline_tokens(oflow)["refresh_token"]
    wrong = RP(rp.client_id, "wrong secret", rp.redirect_uris)

    response = refresh(oflow.app, wrong, token)
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert_error(refresh(oflow.app, rp, token, auth="public"), 401, "invalid_client")
    assert refresh(oflow.app, rp, token).status_int == 200


def test_public_client_refreshes_with_its_client_id(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    public = offline_client(storage, "Public offline RP", is_public=True, require_pkce=True)
    other = offline_client(storage, "Other public RP", is_public=True, require_pkce=True)
    tokens = offline_tokens(offline_flow(app, public, alice))

    assert_error(refresh(app, other, tokens["refresh_token"], auth="public"), 400, "invalid_grant")
    response = refresh(app, public, tokens["refresh_token"], auth="public")
    assert response.status_int == 200, response.text
    assert response.json["refresh_token"] != tokens["refresh_token"]


def test_t49_refresh_cannot_widen_the_scope(oflow: Flow, rp: RP) -> None:
    token = offline_tokens(oflow)["refresh_token"]  # openid profile offline_access

    for wider in ("openid profile email", "openid admin", "email"):
        assert_error(refresh(oflow.app, rp, token, scope=wider), 400, "invalid_scope")

    assert refresh(oflow.app, rp, token).status_int == 200  # refused requests changed nothing


def test_t49_refresh_may_narrow_the_access_token_only(oflow: Flow, rp: RP) -> None:
    token = offline_tokens(oflow)["refresh_token"]

    narrowed = refresh(oflow.app, rp, token, scope="openid")
    assert narrowed.status_int == 200, narrowed.text
    info = oflow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + narrowed.json["access_token"]}
    ).json
    assert set(info) == {"sub"}

    # RFC 6749 6: the new refresh token keeps the grant's scope
    wide_again = refresh(oflow.app, rp, narrowed.json["refresh_token"], scope="openid profile")
    assert wide_again.status_int == 200, wide_again.text
    info = oflow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + wide_again.json["access_token"]}
    ).json
    assert info["name"] == "Alice Liddell"


def test_refresh_without_openid_gives_no_id_token(oflow: Flow, rp: RP) -> None:
    token = offline_tokens(oflow)["refresh_token"]
    response = refresh(oflow.app, rp, token, scope="profile")
    assert response.status_int == 200, response.text
    assert "id_token" not in response.json


def test_t51_refreshed_id_token_keeps_sub_and_auth_time(oflow: Flow, rp: RP) -> None:
    first = offline_tokens(oflow)
    original = verify_id_token(oflow.app, first["id_token"], rp.client_id)
    time.sleep(1.1)  # a later iat

    response = refresh(oflow.app, rp, first["refresh_token"])

    refreshed = verify_id_token(oflow.app, response.json["id_token"], rp.client_id)
    assert refreshed["sub"] == original["sub"] == oflow.user.subject
    assert refreshed["auth_time"] == original["auth_time"]
    assert refreshed["iss"] == original["iss"]
    assert refreshed["aud"] == original["aud"]
    assert refreshed["iat"] > original["iat"]
    assert "nonce" not in refreshed


def test_t50_idle_expiry(oflow: Flow, rp: RP, provider: Provider) -> None:
    before = int(time.time())
    token = offline_tokens(oflow)["refresh_token"]
    [(expires, absolute)] = rows(
        provider, "SELECT expires_at, absolute_expires_at FROM oidc_refresh_token"
    )
    settings = provider.settings
    assert (
        before + settings.refresh_token_idle_ttl
        <= expires
        <= time.time() + (settings.refresh_token_idle_ttl)
    )
    assert before + settings.refresh_token_absolute_ttl <= absolute

    set_expiry(provider, "expires_at", int(time.time()) - 1)
    assert_error(refresh(oflow.app, rp, token), 400, "invalid_grant")


def test_t50_absolute_expiry_is_kept_by_rotation(oflow: Flow, rp: RP, provider: Provider) -> None:
    token = offline_tokens(oflow)["refresh_token"]
    soon = int(time.time()) + 30
    set_expiry(provider, "absolute_expires_at", soon)

    rotated = refresh(oflow.app, rp, token).json["refresh_token"]

    [(expires, absolute)] = rows(
        provider,
        "SELECT expires_at, absolute_expires_at FROM oidc_refresh_token WHERE used_at IS NULL",
    )
    assert absolute == soon and expires <= soon  # never extended by a refresh
    set_expiry(provider, "absolute_expires_at", int(time.time()) - 1)
    assert_error(refresh(oflow.app, rp, rotated), 400, "invalid_grant")


def test_consent_page_shows_offline_access(app: webtest.TestApp, rp: RP, alice: Account) -> None:
    flow = offline_flow(app, rp, alice)
    page = flow.app.get(flow.login(flow.app.get(flow.start().headers["Location"])).location)
    assert "Stay connected to your account when you are not using it" in page.text


def test_client_not_allowed_refresh_tokens_gets_none(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    # offline_access among its scopes, but not the refresh_token grant
    rp = offline_client(storage, "No refresh", grant_types=("authorization_code",))
    flow = offline_flow(app, rp, alice)
    page = flow.app.get(flow.login(flow.app.get(flow.start().headers["Location"])).location)
    assert "Stay connected" not in page.text

    tokens = offline_tokens(offline_flow(app, rp, alice))
    assert "refresh_token" not in tokens
    assert "offline_access" not in tokens.get("scope", "")
    assert_error(refresh(app, rp, "x" * 43), 400, "unauthorized_client")


def test_no_refresh_token_without_offline_access(oflow: Flow) -> None:
    oflow.scope = "openid profile"
    assert "refresh_token" not in offline_tokens(oflow)


def test_client_without_refresh_grant_is_unauthorized(flow: Flow, oflow: Flow) -> None:
    token = offline_tokens(oflow)["refresh_token"]
    # client_a may not use the refresh_token grant at all
    assert_error(refresh(flow.app, flow.client, token), 400, "unauthorized_client")


@pytest.mark.parametrize(
    "data",
    [
        {"refresh_token": None},
        {"refresh_token": ""},
        {"refresh_token": "garbage"},
        {"refresh_token": "x" * 2000},
        {"refresh_token": "%00\u00e9\u2603"},
    ],
    ids=["missing", "empty", "garbage", "long", "odd"],
)
def test_bad_refresh_tokens(oflow: Flow, rp: RP, data: dict[str, Any]) -> None:
    token = offline_tokens(oflow)["refresh_token"]
    response = refresh(oflow.app, rp, "", **data)
    assert response.status_int == 400, response.text
    assert response.json["error"] in ("invalid_request", "invalid_grant")
    assert refresh(oflow.app, rp, token).status_int == 200


def test_duplicated_refresh_token_parameter(oflow: Flow, rp: RP) -> None:
    from tests.support.tokens import basic

    token = offline_tokens(oflow)["refresh_token"]
    body = f"grant_type=refresh_token&refresh_token={token}&refresh_token={token}"
    response = oflow.app.post(
        "/token",
        body,
        headers={**basic(rp), "Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert_error(response, 400, "invalid_request")
    assert refresh(oflow.app, rp, token).status_int == 200


def test_make_client_grant_types_default(storage: Storage) -> None:
    rp = make_client(storage, "Plain", ["https://plain.example/cb"])
    client = storage.clients.by_client_id(rp.client_id)
    assert client is not None and client.grant_types == ("authorization_code",)
