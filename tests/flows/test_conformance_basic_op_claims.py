"""The ``claims`` request parameter (OIDC Core 5.5) as the conformance suite checks it."""

from __future__ import annotations

import json

import pytest

from tests.support.conformance_basic_op import PROFILE, STATE, id_token_of, redirect_error, userinfo
from tests.support.flow import Flow

# -- the claims parameter (OIDC Core 5.5) ------------------------------------------------------


def test_oidcc_claims_essential(flow: Flow) -> None:
    claims = json.dumps({"userinfo": {"name": {"essential": True}}})
    info = userinfo(flow, id_token_of(flow, flow.authorize(claims=claims)))
    assert info["name"] == "Alice Liddell"


def test_claims_parameter_id_token_member_puts_claims_in_the_id_token(flow: Flow) -> None:
    claims = json.dumps(
        {"id_token": {"email": {"essential": True}, "name": None, "sub": {"value": "x"}}}
    )
    token = id_token_of(flow, flow.authorize(claims=claims))
    assert token["email"] == "alice@example.com"
    assert token["name"] == "Alice Liddell"
    assert token["sub"] == flow.user.subject
    assert "given_name" not in token


def test_claims_parameter_never_releases_more_than_the_granted_scopes(flow: Flow) -> None:
    claims = json.dumps({"id_token": {"email": None}, "userinfo": {"email": None}})
    token = id_token_of(flow, flow.authorize(scope="openid profile", claims=claims))
    assert "email" not in token
    assert "email" not in userinfo(flow, token)


def test_without_claims_parameter_the_id_token_has_no_profile_claims(flow: Flow) -> None:
    token = id_token_of(flow, flow.authorize())
    assert not (PROFILE | {"email"}) & set(token)


@pytest.mark.parametrize(
    "claims",
    [
        '{"id_token": []}',
        '{"userinfo": "name"}',
        '{"userinfo": {"name": true}}',
        '{"id_token": {"email": 1}}',
    ],
)
def test_claims_parameter_of_the_wrong_shape_is_invalid_request(flow: Flow, claims: str) -> None:
    redirect_error(flow, flow.start(claims=claims, state=STATE), "invalid_request")
