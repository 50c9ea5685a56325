"""``response_mode`` (T-16) and PKCE (T-17) at the authorization endpoint."""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import make_client
from tests.support.authorize_errors import STATE, assert_redirect_error, code_rows
from tests.support.flow import (
    Account,
    Flow,
    pkce_pair,
)

# -- response_mode (T-16) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mode",
    [
        "fragment",
        "FORM_POST",
        "form_post.jwt",
        "query.jwt",
        "fragment.jwt",
        "jwt",
        "web_message",
        "foo",
        "QUERY",
        "",
    ],
)
def test_unsupported_response_mode_is_an_error_in_the_query(flow: Flow, mode: str) -> None:
    """T-16: never another delivery channel; the error itself comes in the query."""
    response = flow.start(response_mode=mode, state=STATE)
    query = assert_redirect_error(response, "invalid_request")
    assert "response_mode" in query["error_description"]
    assert response.body == b""


def test_form_post_with_script_state_is_escaped(flow: Flow) -> None:
    """T-16: the form_post page HTML-escapes every value (more in test_conformance_basic_op)."""
    state = '"><script>alert(1)</script>'
    response = flow.start(response_mode="form_post", state=state, response_type="token")
    assert response.status_int == 200
    assert "<script>alert" not in response.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_response_mode_query_is_accepted(flow: Flow) -> None:
    """T-16: the one mode we support may be named explicitly."""
    callback = flow.authorize(response_mode="query", state=STATE)
    assert callback["state"] == STATE and "code" in callback


# -- PKCE (T-17) -------------------------------------------------------------------------

_, CHALLENGE = pkce_pair()


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": CHALLENGE, "code_challenge_method": "plain"},
        {"code_challenge": CHALLENGE},
        {"code_challenge_method": "S256"},
        {"code_challenge": CHALLENGE, "code_challenge_method": "s256"},
        {"code_challenge": CHALLENGE, "code_challenge_method": "S512"},
        {"code_challenge": CHALLENGE, "code_challenge_method": ""},
        {"code_challenge": "a" * 42, "code_challenge_method": "S256"},
        {"code_challenge": "a" * 129, "code_challenge_method": "S256"},
        {"code_challenge": "a" * 42 + "+", "code_challenge_method": "S256"},
        {"code_challenge": "a" * 42 + "/", "code_challenge_method": "S256"},
        {"code_challenge": "a" * 42 + "=", "code_challenge_method": "S256"},
        {"code_challenge": "a" * 42 + " ", "code_challenge_method": "S256"},
        {"code_challenge": "a" * 42 + "é", "code_challenge_method": "S256"},
        {"code_challenge": "", "code_challenge_method": "S256"},
    ],
    ids=[
        "plain",
        "no-method",
        "no-challenge",
        "lowercase",
        "S512",
        "empty-method",
        "42",
        "129",
        "plus",
        "slash",
        "padding",
        "space",
        "non-ascii",
        "empty-challenge",
    ],
)
def test_bad_pkce_is_redirected_invalid_request(
    flow: Flow, provider: Provider, pkce: dict[str, str]
) -> None:
    """T-17 (R-PK-5/6): S256 only, a 43..128 character unreserved challenge."""
    assert_redirect_error(flow.start(state=STATE, **pkce), "invalid_request")
    assert code_rows(provider) == 0


@pytest.mark.parametrize("length", [43, 128])
def test_pkce_challenge_length_bounds_are_accepted(flow: Flow, length: int) -> None:
    """T-17 boundary: 43 and 128 characters of [A-Za-z0-9._~-] are valid."""
    challenge = ("aZ09._~-" * 20)[:length]
    callback = flow.authorize(code_challenge=challenge, code_challenge_method="S256")
    assert "code" in callback


def test_client_requiring_pkce_is_refused_without_challenge(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """T-17 (R-PK-4): a client registered with require_pkce sends no challenge."""
    client = make_client(
        provider.storage, "Strict", ["https://strict.example/cb"], require_pkce=True
    )
    response = Flow(app, client, alice).start(state=STATE)
    assert_redirect_error(response, "invalid_request", redirect_uri="https://strict.example/cb")
    assert code_rows(provider) == 0
