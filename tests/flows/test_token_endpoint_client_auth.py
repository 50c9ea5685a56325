"""Client authentication at the token endpoint (T-40): 401 ``invalid_client``, Basic and
body secrets, unknown clients and wrong secrets looking the same.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from tests.support.flow import RP, Flow
from tests.support.token_endpoint import Credentials, assert_error, basic, post_token

BASIC_CHALLENGE = 'Basic realm="oidc-core"'


# -- T-40 client authentication -----------------------------------------------------------------

CLIENT_AUTH_FAILURES: dict[str, Callable[[RP, RP], Credentials]] = {
    "basic-wrong-secret": lambda a, b: (basic(a.client_id, a.client_secret + "x"), {}),
    "basic-truncated-secret": lambda a, b: (basic(a.client_id, a.client_secret[:-1]), {}),
    "basic-empty-secret": lambda a, b: (basic(a.client_id, ""), {}),
    "basic-other-clients-secret": lambda a, b: (basic(a.client_id, b.client_secret), {}),
    "basic-unknown-client": lambda a, b: (basic("no-such-client", a.client_secret), {}),
    # client IDs are case-sensitive on every database (MySQL's default collations are not)
    "basic-client-id-in-other-case": lambda a, b: (
        basic(a.client_id.swapcase(), a.client_secret),
        {},
    ),
    "basic-not-base64": lambda a, b: ({"Authorization": "Basic %%%not-base64%%%"}, {}),
    "basic-no-colon": lambda a, b: (
        {"Authorization": "Basic " + base64.b64encode(a.client_id.encode()).decode()},
        {},
    ),
    "basic-empty": lambda a, b: ({"Authorization": "Basic "}, {}),
    "post-wrong-secret": lambda a, b: ({}, {"client_id": a.client_id, "client_secret": "x"}),
    "post-empty-secret": lambda a, b: ({}, {"client_id": a.client_id, "client_secret": ""}),
    "post-other-clients-secret": lambda a, b: (
        {},
        {"client_id": a.client_id, "client_secret": b.client_secret},
    ),
    "post-unknown-client": lambda a, b: (
        {},
        {"client_id": "nobody", "client_secret": a.client_secret},
    ),
    "post-secret-without-client-id": lambda a, b: ({}, {"client_secret": a.client_secret}),
    "post-client-id-only": lambda a, b: ({}, {"client_id": a.client_id}),
    "none": lambda a, b: ({}, {}),
    "bearer-scheme": lambda a, b: ({"Authorization": "Bearer " + a.client_secret}, {}),
    "basic-user-differs-from-body-client-id": lambda a, b: (
        basic(a.client_id, a.client_secret),
        {"client_id": b.client_id},
    ),
}


@pytest.mark.parametrize("variant", CLIENT_AUTH_FAILURES)
def test_t40_failed_client_authentication_is_401_invalid_client(
    flow: Flow, client_b: RP, variant: str
) -> None:
    headers, extra = CLIENT_AUTH_FAILURES[variant](flow.client, client_b)
    code = flow.authorize()["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
        **extra,
    }
    response = post_token(flow.app, data, headers=headers)
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith(BASIC_CHALLENGE)
    assert flow.token(code).status_int == 200


def test_t40_basic_and_body_secret_together_is_invalid_request(flow: Flow) -> None:
    code = flow.authorize()["code"]
    response = flow.token(code, client_secret=flow.client.client_secret)
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t40_unknown_client_and_wrong_secret_look_the_same(flow: Flow) -> None:
    code = flow.authorize()["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
    }
    wrong_secret = post_token(flow.app, data, headers=basic(flow.client.client_id, "x" * 43))
    unknown_client = post_token(flow.app, data, headers=basic("x" * 22, "x" * 43))
    assert_error(wrong_secret, 401, "invalid_client")
    assert unknown_client.json == wrong_secret.json
    assert unknown_client.headers["WWW-Authenticate"] == wrong_secret.headers["WWW-Authenticate"]


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"], ids=["canonical", "lower", "upper"])
def test_t40_basic_scheme_is_case_insensitive(flow: Flow, scheme: str) -> None:
    code = flow.authorize()["code"]
    creds = base64.b64encode(f"{flow.client.client_id}:{flow.client.client_secret}".encode())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
    }
    response = post_token(flow.app, data, headers={"Authorization": f"{scheme} {creds.decode()}"})
    assert response.status_int == 200


def test_t40_basic_with_the_same_client_id_in_the_body_is_accepted(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert flow.token(code, client_id=flow.client.client_id).status_int == 200
