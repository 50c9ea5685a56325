"""Token revocation, RFC 7009 (SECURITY-CHECKLIST R-CL-1, R-AT-2).

200 for unknown tokens; ``token_type_hint`` honoured but not trusted; only the owning
client can revoke; revoking a refresh token revokes its whole grant.
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core.storage import Storage
from tests.support.flow import RP, Account, Flow
from tests.support.token_endpoint import assert_error
from tests.support.tokens import (
    basic,
    offline_client,
    offline_flow,
    offline_tokens,
    post_as,
    refresh,
    userinfo_status,
)


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_client(storage)


@pytest.fixture
def oflow(app: webtest.TestApp, rp: RP, alice: Account) -> Flow:
    return offline_flow(app, rp, alice)


def revoke(
    app: webtest.TestApp, rp: RP | None, token: str | None, auth: str = "basic", **extra: Any
) -> webtest.TestResponse:
    return post_as(app, "/revoke", rp, {"token": token, **extra}, auth)


def assert_ok(response: webtest.TestResponse) -> None:
    assert response.status_int == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "foo"])
def test_revoking_an_access_token(oflow: Flow, rp: RP, hint: str | None) -> None:
    tokens = offline_tokens(oflow)

    assert_ok(revoke(oflow.app, rp, tokens["access_token"], token_type_hint=hint))

    assert userinfo_status(oflow.app, tokens["access_token"]) == 401
    # only that token: the refresh token still works
    assert refresh(oflow.app, rp, tokens["refresh_token"]).status_int == 200


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_revoking_a_refresh_token_revokes_its_grant(oflow: Flow, rp: RP, hint: str | None) -> None:
    first = offline_tokens(oflow)
    second = refresh(oflow.app, rp, first["refresh_token"]).json
    other = offline_tokens(oflow)

    assert_ok(revoke(oflow.app, rp, second["refresh_token"], auth="post", token_type_hint=hint))

    assert_error(refresh(oflow.app, rp, second["refresh_token"]), 400, "invalid_grant")
    assert userinfo_status(oflow.app, first["access_token"]) == 401
    assert userinfo_status(oflow.app, second["access_token"]) == 401
    # another grant of the same user and client is untouched
    assert userinfo_status(oflow.app, other["access_token"]) == 200
    assert refresh(oflow.app, rp, other["refresh_token"]).status_int == 200


@pytest.mark.parametrize("token", ["unknown", "x" * 1000, "\u2603"])
def test_unknown_tokens_answer_200(oflow: Flow, rp: RP, token: str) -> None:
    tokens = offline_tokens(oflow)
    assert_ok(revoke(oflow.app, rp, token))
    assert userinfo_status(oflow.app, tokens["access_token"]) == 200


def test_revoking_twice_and_a_used_refresh_token_answer_200(oflow: Flow, rp: RP) -> None:
    tokens = offline_tokens(oflow)
    assert_ok(revoke(oflow.app, rp, tokens["access_token"]))
    assert_ok(revoke(oflow.app, rp, tokens["access_token"]))


def test_only_the_owning_client_can_revoke(
    oflow: Flow, rp: RP, storage: Storage, client_b: RP
) -> None:
    tokens = offline_tokens(oflow)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert_ok(revoke(oflow.app, client_b, token))  # 200, but nothing happens

    assert userinfo_status(oflow.app, tokens["access_token"]) == 200
    assert refresh(oflow.app, rp, tokens["refresh_token"]).status_int == 200


def test_client_authentication_is_required(oflow: Flow, rp: RP) -> None:
    tokens = offline_tokens(oflow)
    wrong = RP(rp.client_id, "wrong", rp.redirect_uris)

    response = revoke(oflow.app, wrong, tokens["access_token"])
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert_error(revoke(oflow.app, None, tokens["access_token"]), 401, "invalid_client")
    # a confidential client cannot pass itself off as public
    assert_error(
        revoke(oflow.app, rp, tokens["access_token"], auth="public"), 401, "invalid_client"
    )
    assert userinfo_status(oflow.app, tokens["access_token"]) == 200


def test_public_client_revokes_with_its_client_id(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    public = offline_client(storage, "Public", is_public=True, require_pkce=True)
    tokens = offline_tokens(offline_flow(app, public, alice))
    assert_ok(revoke(app, public, tokens["refresh_token"], auth="public"))
    assert userinfo_status(app, tokens["access_token"]) == 401


def test_bad_requests(oflow: Flow, rp: RP) -> None:
    tokens = offline_tokens(oflow)
    at = tokens["access_token"]
    assert_error(revoke(oflow.app, rp, None), 400, "invalid_request")
    response = oflow.app.get("/revoke", expect_errors=True)
    assert response.status_int == 405 and response.headers["Allow"] == "POST"
    query = oflow.app.post(f"/revoke?token={at}", headers=basic(rp), expect_errors=True)
    assert_error(query, 400, "invalid_request")
    twice = oflow.app.post(
        "/revoke",
        f"token={at}&token={at}",
        headers={**basic(rp), "Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert_error(twice, 400, "invalid_request")
    json_body = oflow.app.post_json("/revoke", {"token": at}, headers=basic(rp), expect_errors=True)
    assert json_body.status_int == 400
    assert userinfo_status(oflow.app, at) == 200
