"""Until ``client_id`` and ``redirect_uri`` are both valid, a bad authorization request
gets an HTML error page (400, no ``Location``) and nothing is stored (RFC 6749 4.1.2.1).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import webtest

from oidc_core import Provider
from tests.support.authorize_errors import CB, CB2, STATE, assert_error_page, get_authorize
from tests.support.flow import (
    RP,
    Account,
    Flow,
)

# -- client_id and redirect_uri come first: error pages ---------------------------------


def test_unregistered_redirect_uri_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-01."""
    response = flow.start(redirect_uri="https://evil.example/cb", state=STATE)
    assert_error_page(response, provider)
    assert "has not registered" in response.text
    assert "evil.example" not in response.text


def test_unregistered_redirect_uri_by_post_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-01 through a POST authorization request."""
    params = flow.authorize_params(redirect_uri="https://evil.example/cb")
    response = flow.app.post("/authorize", params, expect_errors=True)
    assert_error_page(response, provider)


@pytest.mark.parametrize("client_id", ["unknown-client", "", None])
def test_unknown_or_missing_client_is_an_error_page(
    flow: Flow, provider: Provider, client_id: str | None
) -> None:
    """T-02: no redirect although redirect_uri is registered (for client A)."""
    response = flow.start(client_id=client_id)
    assert_error_page(response, provider)
    assert "not registered" in response.text


def test_redirect_uri_of_another_client_is_an_error_page(
    flow: Flow, provider: Provider, client_b: RP
) -> None:
    """T-02: client B asking to be sent to client A's redirect URI."""
    response = flow.start(client_id=client_b.client_id, redirect_uri=CB)
    assert_error_page(response, provider)
    assert "has not registered" in response.text


@pytest.mark.parametrize(
    ("redirect_uri", "message"), [(None, "redirect_uri is missing"), ("", "has not registered")]
)
def test_missing_redirect_uri_is_an_error_page(
    flow: Flow, provider: Provider, redirect_uri: str | None, message: str
) -> None:
    """T-03: client A has two registered URIs and sends none (or an empty one)."""
    response = flow.start(redirect_uri=redirect_uri)
    assert_error_page(response, provider)
    assert message in response.text


def test_redirect_uri_is_required_even_with_one_registered(
    app: webtest.TestApp, provider: Provider, client_b: RP, alice: Account
) -> None:
    """T-03 / R-RU-5: OIDC Core 3.1.2.1 makes redirect_uri REQUIRED, one URI or many."""
    response = Flow(app, client_b, alice).start(redirect_uri=None)
    assert_error_page(response, provider)
    assert "redirect_uri is missing" in response.text


def test_registered_uri_with_query_keeps_its_query(flow: Flow) -> None:
    """T-04: https://rp.example/cb2?x=1 gets code, state and iss appended, x=1 kept."""
    callback = flow.authorize(redirect_uri=CB2, state=STATE)
    assert callback["x"] == "1"
    assert callback["state"] == STATE
    assert callback["iss"] == flow.issuer
    assert flow.token(callback["code"], redirect_uri=CB2).status_int == 200


def test_callback_location_is_the_registered_uri_with_parameters_appended(flow: Flow) -> None:
    """T-04 / design rule 2: the Location begins with the stored URI string, byte for byte."""
    flow.authorize(redirect_uri=CB2)
    response = flow.start(redirect_uri=CB2, state=STATE)
    assert response.status_int == 302
    assert response.headers["Location"].startswith(CB2 + "&code=")


REDIRECT_URI_BYPASSES = [
    "https://rp.example/cb?foo=bar",
    "https://rp.example/cb2?x=2",
    "https://rp.example/cb/",
    "https://rp.example/cbx",
    "https://rp.example/cb#f",
    "https://RP.EXAMPLE/cb",
    "HTTPS://rp.example/cb",
    "https://rp.example:443/cb",
    "https://rp.example/cb/../evil",
    "https://rp.example/cb/%2E%2E/evil",
    "https://rp.example/cb%252f..%252fevil",
    "https://rp.example/cb/..;/evil",
    "https://rp.example.evil.com/cb",
    "https://rp.example@evil.com/cb",
    "https://evil.com\\@rp.example/cb",
    "http://rp.example/cb",
    "http://127.0.0.1/cb",
    "http://localhost:80@evil.com/cb",
    "https://rp.example/cb%0d%0aSet-Cookie:x",
    " https://rp.example/cb",
    "https://rp.example/cb\t",
    "//evil.com/cb",
    "https://rpaexample/cb",
    # beyond the checklist's 23
    "https://rp.example/cb\r\nSet-Cookie: x=1",
    "https://rp.example/cb ",
    "https://rp.example/cb?",
    "https://rp.example/cb#",
    "https://rp.example/cb2",
    "https://rp.example/cb2?x=1&y=2",
    "https://rp.example/CB",
    "https://rp.example/cb%2F..%2Fevil",
    "https://rp.example/c%62",
    "https://xn--rp-example/cb",
    "javascript:alert(1)//https://rp.example/cb",
    "/cb",
]


@pytest.mark.parametrize("redirect_uri", REDIRECT_URI_BYPASSES)
def test_redirect_uri_bypass_is_an_error_page(
    flow: Flow, provider: Provider, redirect_uri: str
) -> None:
    """T-05: exact string comparison (R-RU-1/3); every near miss is an error page."""
    response = flow.start(redirect_uri=redirect_uri, state=STATE)
    assert_error_page(response, provider)
    assert "Set-Cookie" not in response.headers


def test_invalid_response_type_with_unregistered_uri_is_an_error_page(
    flow: Flow, provider: Provider
) -> None:
    """T-09: the client/URI check precedes every other check."""
    response = flow.start(response_type="token", redirect_uri="https://evil.example/cb")
    assert_error_page(response, provider)


@pytest.mark.parametrize(
    "params",
    [
        {"scope": "email"},
        {"response_mode": "fragment"},
        {"code_challenge_method": "plain", "code_challenge": "a" * 43},
        {"request": "eyJhbGciOiJub25lIn0.e30."},
        {"prompt": "none"},
        {"response_type": None},
    ],
    ids=["no-openid", "fragment", "plain", "request-object", "prompt-none", "no-response-type"],
)
def test_later_errors_with_unregistered_uri_are_error_pages(
    flow: Flow, provider: Provider, params: dict[str, Any]
) -> None:
    """T-09: no error of any kind is ever redirected to an unvalidated URI."""
    response = flow.start(redirect_uri="https://evil.example/cb", **params)
    assert_error_page(response, provider)


# -- duplicated parameters ------------------------------------------------------------


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "response_type", "scope", "state"])
def test_duplicated_parameter_is_an_error_page(flow: Flow, provider: Provider, name: str) -> None:
    """T-10 (R-TE-3): a parameter sent twice, even with the same value, is refused.

    For ``client_id`` and ``redirect_uri`` the checklist asks for an error page.  For
    ``response_type``, ``scope`` and ``state`` it suggests a redirected ``invalid_request``;
    oauthlib refuses all five with ``InvalidRequestFatalError`` before it looks at the
    redirect URI, so we answer with an error page.  That is the safer of the two answers
    (nothing is redirected) and it is our documented behaviour.
    """
    params = flow.authorize_params(state=STATE)
    query = urlencode(params) + "&" + urlencode({name: params[name]})
    response = get_authorize(flow.app, query)
    assert_error_page(response, provider)
    assert name in response.text


def test_two_different_redirect_uris_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-10: both registered, still ambiguous: never pick one."""
    params = flow.authorize_params(redirect_uri=CB)
    query = urlencode(params) + "&" + urlencode({"redirect_uri": CB2})
    assert_error_page(get_authorize(flow.app, query), provider)
