"""The UserInfo endpoint (OIDC Core 5.3, RFC 6750): SECURITY-CHECKLIST T-54 and T-55."""

from __future__ import annotations

import secrets
import time

import pytest
import webtest

from oidc_core import Provider
from tests.support.flow import RP, Account, Flow

NO_TOKEN_CHALLENGE = 'Bearer realm="oidc-core"'


@pytest.fixture
def access_token(flow: Flow) -> str:
    token: str = flow.token(flow.authorize()["code"]).json["access_token"]
    return token


def assert_claims(response: webtest.TestResponse, account: Account) -> None:
    assert response.status_int == 200, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["sub"] == account.subject


def assert_invalid_token(response: webtest.TestResponse) -> None:
    assert response.status_int == 401, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["error"] == "invalid_token"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="oidc-core"')
    assert 'error="invalid_token"' in challenge


def assert_invalid_request(response: webtest.TestResponse) -> None:
    assert response.status_int == 400, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["error"] == "invalid_request"


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


# -- T-54 ways of presenting the token -----------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_t54_bearer_header_works_with_get_and_post_in_any_case(
    app: webtest.TestApp, access_token: str, alice: Account, method: str, scheme: str
) -> None:
    response = app.request(
        "/userinfo", method=method, headers=bearer(access_token, scheme), expect_errors=True
    )
    assert_claims(response, alice)


def test_t54_post_form_body_token_works(
    app: webtest.TestApp, access_token: str, alice: Account
) -> None:
    assert_claims(app.post("/userinfo", {"access_token": access_token}), alice)


def test_t54_header_with_an_unrelated_form_body_works(
    app: webtest.TestApp, access_token: str, alice: Account
) -> None:
    assert_claims(app.post("/userinfo", {"x": "1"}, headers=bearer(access_token)), alice)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_t54_token_in_the_query_string_is_invalid_request(
    app: webtest.TestApp, access_token: str, method: str
) -> None:
    response = app.request(
        f"/userinfo?access_token={access_token}", method=method, expect_errors=True
    )
    assert_invalid_request(response)


def test_t54_query_token_is_refused_even_with_a_valid_header(
    app: webtest.TestApp, access_token: str
) -> None:
    response = app.get(
        f"/userinfo?access_token={access_token}",
        headers=bearer(access_token),
        expect_errors=True,
    )
    assert_invalid_request(response)


def test_t54_header_and_body_together_is_invalid_request(
    app: webtest.TestApp, access_token: str
) -> None:
    response = app.post(
        "/userinfo",
        {"access_token": access_token},
        headers=bearer(access_token),
        expect_errors=True,
    )
    assert_invalid_request(response)


# -- T-54 no token, bad tokens ------------------------------------------------------------------


def test_t54_no_token_is_401_with_a_bare_bearer_challenge(app: webtest.TestApp) -> None:
    for response in (
        app.get("/userinfo", expect_errors=True),
        app.post("/userinfo", expect_errors=True),
        app.post("/userinfo", {"x": "1"}, expect_errors=True),
    ):
        assert response.status_int == 401
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["WWW-Authenticate"] == NO_TOKEN_CHALLENGE


def test_t54_token_in_a_json_body_is_not_read(app: webtest.TestApp, access_token: str) -> None:
    response = app.post_json("/userinfo", {"access_token": access_token}, expect_errors=True)
    assert response.status_int == 401
    assert response.headers["WWW-Authenticate"] == NO_TOKEN_CHALLENGE


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Bearer garbage", id="garbage"),
        pytest.param("Bearer " + secrets.token_urlsafe(32), id="random"),
        pytest.param("Bearer ", id="empty-token"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer a b", id="two-tokens"),
        pytest.param("Bearer " + "a" * 10_000, id="10-kB"),
        pytest.param("Bearer \xe9\xff", id="non-ascii"),
        pytest.param("Basic YTpi", id="basic-scheme"),
        pytest.param("Token abc", id="unknown-scheme"),
    ],
)
def test_t54_bad_header_token_is_401_invalid_token(
    app: webtest.TestApp, access_token: str, value: str
) -> None:
    assert_invalid_token(app.get("/userinfo", headers={"Authorization": value}, expect_errors=True))


def test_t54_truncated_token_is_401_invalid_token(app: webtest.TestApp, access_token: str) -> None:
    response = app.get("/userinfo", headers=bearer(access_token[:-1]), expect_errors=True)
    assert_invalid_token(response)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"access_token=garbage", id="garbage"),
        pytest.param(b"access_token=", id="empty"),
    ],
)
def test_t54_bad_body_token_is_refused_without_5xx(app: webtest.TestApp, body: bytes) -> None:
    response = app.post(
        "/userinfo",
        body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert_invalid_token(response)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"access_token=%00", id="nul"),
        pytest.param(b"access_token=%FF", id="non-utf8"),
        pytest.param(b"access_token=a&access_token=b", id="twice"),
    ],
)
def test_t54_malformed_body_is_400_invalid_request(app: webtest.TestApp, body: bytes) -> None:
    """RFC 6750 3.1: a malformed or repeated parameter is invalid_request (400)."""
    response = app.post(
        "/userinfo",
        body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert response.status_int == 400
    assert response.json["error"] == "invalid_request"
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


def test_t54_expired_token_is_401_invalid_token(
    app: webtest.TestApp, access_token: str, provider: Provider
) -> None:
    past = int(time.time()) - 1
    provider.storage.database.execute_sql(f"UPDATE oidc_access_token SET expires_at = {past}")
    assert_invalid_token(app.get("/userinfo", headers=bearer(access_token), expect_errors=True))
    response = app.post("/userinfo", {"access_token": access_token}, expect_errors=True)
    assert_invalid_token(response)


def test_t54_token_revoked_by_code_replay_is_401_invalid_token(flow: Flow) -> None:
    code = flow.authorize()["code"]
    access_token = flow.token(code).json["access_token"]
    assert flow.token(code).status_int == 400
    response = flow.app.get("/userinfo", headers=bearer(access_token), expect_errors=True)
    assert_invalid_token(response)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_t54_other_methods_are_405(app: webtest.TestApp, access_token: str, method: str) -> None:
    response = app.request(
        "/userinfo", method=method, headers=bearer(access_token), expect_errors=True
    )
    assert response.status_int == 405
    assert response.content_type == "application/json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_t54_reference_alias_behaves_the_same(
    app: webtest.TestApp, access_token: str, alice: Account
) -> None:
    assert_claims(app.get("/oauth/userinfo.php", headers=bearer(access_token)), alice)
    response = app.get("/oauth/userinfo.php", expect_errors=True)
    assert response.status_int == 401
    assert response.headers["WWW-Authenticate"] == NO_TOKEN_CHALLENGE


# -- T-55 claims follow the consented scopes ---------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "claims"),
    [
        pytest.param("openid", {"sub"}, id="openid"),
        pytest.param("openid email", {"sub", "email", "email_verified"}, id="openid-email"),
        pytest.param(
            "openid profile",
            {"sub", "name", "given_name", "family_name", "preferred_username", "locale"}
            | {"updated_at"},
            id="openid-profile",
        ),
        pytest.param("openid unknown-scope", {"sub"}, id="unknown-scope-dropped"),
    ],
)
def test_t55_claims_released_are_those_of_the_consented_scopes(
    flow: Flow, scope: str, claims: set[str]
) -> None:
    token = flow.token(flow.authorize(scope=scope)["code"]).json["access_token"]
    info = flow.app.get("/userinfo", headers=bearer(token)).json
    assert set(info) == claims
    assert info["sub"] == flow.user.subject


def test_t55_email_claims_values(flow: Flow) -> None:
    token = flow.token(flow.authorize(scope="openid email")["code"]).json["access_token"]
    info = flow.app.get("/userinfo", headers=bearer(token)).json
    assert info == {"sub": flow.user.subject, "email": flow.user.email, "email_verified": True}


def test_t55_empty_profile_claims_are_left_out_not_null(
    app: webtest.TestApp, client_a: RP, bob: Account
) -> None:
    flow = Flow(app, client_a, bob)
    token = flow.token(flow.authorize()["code"]).json["access_token"]
    info = app.get("/userinfo", headers=bearer(token)).json
    assert info["sub"] == bob.subject
    assert info["email"] == bob.email
    assert info["email_verified"] is False
    assert all(value is not None and value != "" for value in info.values()), info
    assert not {"name", "given_name", "family_name", "preferred_username", "locale"} & set(info)


def test_t55_each_token_answers_for_its_own_user(
    app: webtest.TestApp, client_a: RP, alice: Account, bob: Account
) -> None:
    alice_flow = Flow(app, client_a, alice)
    alice_token = alice_flow.token(alice_flow.authorize()["code"]).json["access_token"]
    bob_flow = Flow(app.new_browser(), client_a, bob)
    bob_token = bob_flow.token(bob_flow.authorize()["code"]).json["access_token"]
    assert app.get("/userinfo", headers=bearer(alice_token)).json["sub"] == alice.subject
    assert app.get("/userinfo", headers=bearer(bob_token)).json["sub"] == bob.subject
