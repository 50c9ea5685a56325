"""``state`` and ``nonce`` echoed exactly (T-15), and ``iss`` everywhere (T-18)."""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from tests.support.authorize_errors import STATE, assert_redirect_error, code_rows
from tests.support.flow import (
    Flow,
    query_of,
    verify_id_token,
)

# -- state and nonce (T-15) -------------------------------------------------------------

UNUSUAL = "&=%#+ é日本🔑/?;\\\"<>'"


@pytest.mark.parametrize(
    "state",
    [
        "s" * 384,
        (UNUSUAL * 200)[:2048],
        "a+b=c&d=e#f%20g",
        "%",
        " leading and trailing ",
    ],
    ids=["384", "2048-unusual", "delims", "percent", "spaces"],
)
def test_state_is_echoed_byte_exact(flow: Flow, state: str) -> None:
    """T-15 / T-18: never truncated, properly percent-encoded, in the success response."""
    callback = flow.authorize(state=state)
    assert callback["state"] == state
    assert callback["iss"] == flow.issuer
    response = flow.start(state=state)
    location = response.headers["Location"]
    assert "#" not in location and " " not in location
    assert query_of(location)["state"] == state


@pytest.mark.parametrize("state", [(UNUSUAL * 200)[:2048], "x" * 2048])
def test_state_is_echoed_byte_exact_in_errors(flow: Flow, state: str) -> None:
    """T-15 / T-18: the same exactness for error responses."""
    assert_redirect_error(
        flow.start(response_type="foo", state=state), "unsupported_response_type", state=state
    )


def test_state_over_limit_is_refused_without_echo(flow: Flow, provider: Provider) -> None:
    """T-15: 2049 characters exceed the documented limit; the value is not echoed."""
    response = flow.start(state="s" * 2049)
    query = assert_redirect_error(response, "invalid_request", state=None)
    assert "state" in query["error_description"]
    assert code_rows(provider) == 0


@pytest.mark.parametrize("nonce", ["n" * 384, (UNUSUAL * 200)[:2048]], ids=["384", "2048"])
def test_nonce_is_exact_in_the_id_token(flow: Flow, nonce: str) -> None:
    """T-15: nonce of 384 and 2048 characters is signed into the ID token unchanged."""
    callback = flow.authorize(nonce=nonce)
    body = flow.token(callback["code"]).json
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    assert claims["nonce"] == nonce


def test_nonce_over_limit_is_refused(flow: Flow) -> None:
    """T-15: 2049 characters exceed the documented limit."""
    assert_redirect_error(flow.start(nonce="n" * 2049, state=STATE), "invalid_request")


# -- iss everywhere (T-18) ---------------------------------------------------------------


def test_discovery_advertises_iss_parameter(app: webtest.TestApp) -> None:
    """T-18 / RFC 9207 section 3."""
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["response_modes_supported"] == ["query", "form_post"]


def test_success_response_has_iss_and_exact_state(flow: Flow) -> None:
    """T-18: the code response, both after consent (303) and at once (302)."""
    first = flow.authorize(state=STATE)
    again = flow.start(state="second")
    assert (first["iss"], first["state"]) == (flow.issuer, STATE)
    assert again.status_int == 302
    callback = query_of(again.headers["Location"])
    assert (callback["iss"], callback["state"]) == (flow.issuer, "second")
    assert set(callback) == {"code", "state", "iss"}
