"""Token introspection, RFC 7662: only authenticated confidential clients, only their own
tokens; ``active`` with ``sub``, ``scope``, ``client_id``, ``exp``, ``iat``, ``token_type``."""

from __future__ import annotations

import time
from typing import Any

import pytest
import webtest

from oidc_core.storage import Storage
from tests.support.flow import RP, Account, Flow
from tests.support.token_endpoint import assert_error
from tests.support.tokens import (
    offline_client,
    offline_flow,
    offline_tokens,
    post_as,
    refresh,
)


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_client(storage)


@pytest.fixture
def oflow(app: webtest.TestApp, rp: RP, alice: Account) -> Flow:
    return offline_flow(app, rp, alice)


def introspect(
    app: webtest.TestApp, rp: RP | None, token: str | None, auth: str = "basic", **extra: Any
) -> webtest.TestResponse:
    return post_as(app, "/introspect", rp, {"token": token, **extra}, auth)


def info(app: webtest.TestApp, rp: RP, token: str, **extra: Any) -> dict[str, Any]:
    response = introspect(app, rp, token, **extra)
    assert response.status_int == 200, response.text
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.json
    return body


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "foo"])
def test_active_access_token(oflow: Flow, rp: RP, issuer: str, hint: str | None) -> None:
    before = int(time.time())
    tokens = offline_tokens(oflow)

    body = info(oflow.app, rp, tokens["access_token"], token_type_hint=hint)

    assert body["active"] is True
    assert body["sub"] == oflow.user.subject
    assert body["client_id"] == rp.client_id
    assert body["scope"].split() == ["openid", "profile", "offline_access"]
    assert body["token_type"] == "Bearer"
    assert body["iss"] == issuer
    assert before <= body["iat"] <= time.time()
    assert body["exp"] == body["iat"] + tokens["expires_in"]


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_active_refresh_token(oflow: Flow, rp: RP, provider: Any, hint: str | None) -> None:
    tokens = offline_tokens(oflow)
    body = info(oflow.app, rp, tokens["refresh_token"], auth="post", token_type_hint=hint)
    assert body["active"] is True
    assert body["sub"] == oflow.user.subject and body["client_id"] == rp.client_id
    assert "token_type" not in body  # a refresh token has no RFC 6749 7.1 type
    assert body["exp"] - body["iat"] == provider.settings.refresh_token_idle_ttl


def test_inactive_tokens(oflow: Flow, rp: RP) -> None:
    first = offline_tokens(oflow)
    second = refresh(oflow.app, rp, first["refresh_token"]).json
    for token in (first["refresh_token"], "unknown", "x" * 1000):  # used, unknown
        assert info(oflow.app, rp, token) == {"active": False}
    assert info(oflow.app, rp, second["refresh_token"])["active"] is True

    post_as(oflow.app, "/revoke", rp, {"token": second["access_token"]})
    assert info(oflow.app, rp, second["access_token"]) == {"active": False}


def test_another_clients_tokens_are_inactive(oflow: Flow, storage: Storage) -> None:
    other = offline_client(storage, "Resource server")
    tokens = offline_tokens(oflow)
    assert info(oflow.app, other, tokens["access_token"]) == {"active": False}
    assert info(oflow.app, other, tokens["refresh_token"]) == {"active": False}


def test_only_authenticated_confidential_clients(
    app: webtest.TestApp, oflow: Flow, rp: RP, storage: Storage, alice: Account
) -> None:
    tokens = offline_tokens(oflow)
    wrong = RP(rp.client_id, "wrong", rp.redirect_uris)
    response = introspect(oflow.app, wrong, tokens["access_token"])
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert_error(introspect(oflow.app, None, tokens["access_token"]), 401, "invalid_client")
    assert_error(
        introspect(oflow.app, rp, tokens["access_token"], auth="public"), 401, "invalid_client"
    )

    public = offline_client(storage, "Public", is_public=True, require_pkce=True)
    own = offline_tokens(offline_flow(app, public, alice))
    assert_error(introspect(app, public, own["access_token"], auth="public"), 401, "invalid_client")


def test_bad_requests(oflow: Flow, rp: RP) -> None:
    assert_error(introspect(oflow.app, rp, None), 400, "invalid_request")
    response = oflow.app.get("/introspect", expect_errors=True)
    assert response.status_int == 405
    assert_error(oflow.app.post("/introspect?token=x", expect_errors=True), 400, "invalid_request")
