"""Pathological input to the authorization endpoint: long, many, invalid UTF-8, NUL,
oversized; an error page or 413, never a 5xx, nothing stored.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oidc_core import Provider
from tests.support.authorize_errors import CB, STATE, assert_error_page, code_rows, get_authorize
from tests.support.flow import (
    Flow,
)

# -- pathological input ----------------------------------------------------------------


def test_parameter_of_max_length_is_accepted(flow: Flow) -> None:
    """T-12 boundary: a 4096-character (unknown) parameter value is fine."""
    assert flow.start(extra="a" * 4096).status_int == 303


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"redirect_uri": CB + "?" + "a" * 8192}, "too long", id="8k-uri"),
        pytest.param({"extra": "a" * 4097}, "too long", id="4097-value"),
        pytest.param({"a" * 65: "v"}, "too long", id="long-key"),
        pytest.param({"state": "abc\x00def"}, "NUL", id="nul-state"),
        pytest.param({"client_id": "\x00"}, "NUL", id="nul-client"),
        pytest.param({"redirect_uri": CB + "\x00"}, "NUL", id="nul-uri"),
        pytest.param({"nonce": "\x00"}, "NUL", id="nul-nonce"),
        pytest.param(
            {"redirect_uri": "https://[" + ":" * 4000 + "]/cb"}, "not registered", id="ipv6-junk"
        ),
    ],
)
def test_pathological_parameter_is_an_error_page(
    flow: Flow, provider: Provider, overrides: dict[str, str], message: str
) -> None:
    """T-12: oversized values, NUL bytes, junk IPv6 literals: a page, never a 5xx."""
    response = flow.start(**{"state": STATE, **overrides})
    assert_error_page(response, provider)
    assert message in response.text


def test_hundred_parameters_are_accepted(flow: Flow) -> None:
    """T-12 boundary: 100 parameters (6 real, 94 unknown) are fine."""
    extra = {f"p{i}": "v" for i in range(100 - len(flow.authorize_params()))}
    assert flow.start(**extra).status_int == 303


@pytest.mark.parametrize(
    ("count", "status", "message"),
    [(101, 400, "too many parameters"), (10_000, 414, "too long")],
)
def test_too_many_parameters_is_an_error_page(
    flow: Flow, provider: Provider, count: int, status: int, message: str
) -> None:
    """T-12: more than 100 parameters (up to 10 000 ``&a=``) is refused as a page."""
    params = flow.authorize_params()
    query = urlencode(params) + "&a=" * (count - len(params))
    response = get_authorize(flow.app, query)
    assert_error_page(response, provider, status=status)
    assert message in response.text


@pytest.mark.parametrize("name", ["state", "client_id", "redirect_uri", "extra"])
def test_invalid_utf8_is_an_error_page(flow: Flow, provider: Provider, name: str) -> None:
    """T-12: %FF is not UTF-8."""
    params = flow.authorize_params()
    params.pop(name, None)
    response = get_authorize(flow.app, urlencode(params) + f"&{name}=%FF%FE")
    assert_error_page(response, provider)
    assert "UTF-8" in response.text


def test_raw_nul_in_query_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-12: %00 in the query string."""
    params = flow.authorize_params()
    params.pop("nonce")
    response = get_authorize(flow.app, urlencode(params) + "&nonce=%00")
    assert_error_page(response, provider)
    assert "NUL" in response.text


def test_invalid_utf8_in_post_body_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-12: the same for a POST authorization request."""
    params = flow.authorize_params()
    params.pop("state")
    response = flow.app.post(
        "/authorize",
        urlencode(params) + "&state=%C3%28",
        content_type="application/x-www-form-urlencoded",
        expect_errors=True,
    )
    assert_error_page(response, provider)
    assert "UTF-8" in response.text


def test_oversized_post_body_is_refused_413(flow: Flow, provider: Provider) -> None:
    """T-12 / design rule 8: bodies over 65536 bytes are refused before parsing."""
    params = flow.authorize_params(extra="a" * 70_000)
    response = flow.app.post("/authorize", params, expect_errors=True)
    assert response.status_int == 413
    assert "Location" not in response.headers
    assert code_rows(provider) == 0


def test_100k_query_string_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-12: a 100 KB query string (here 200 values of 500 characters)."""
    extra = {f"p{i}": "x" * 500 for i in range(200)}
    response = flow.start(**extra)
    assert_error_page(response, provider, status=414)
    assert "too long" in response.text


def test_100k_state_is_an_error_page(flow: Flow, provider: Provider) -> None:
    """T-12: one 100 KB value makes the URL too long before anything is parsed."""
    response = flow.start(state="s" * 100_000)
    assert_error_page(response, provider, status=414)


def test_long_values_in_a_post_body_are_refused(flow: Flow, provider: Provider) -> None:
    """T-12: the same limits hold for a POSTed authorization request."""
    response = flow.app.post(
        "/authorize", {**flow.authorize_params(), "state": "s" * 5000}, expect_errors=True
    )
    assert_error_page(response, provider)
    assert "too long" in response.text


def test_unknown_parameters_are_not_stored(flow: Flow, provider: Provider) -> None:
    """Unknown parameters are ignored, and not kept with the pending request either."""
    assert flow.start(extra_param="x" * 4000).status_int == 303
    stored = provider.storage.database.execute_sql(
        "SELECT params FROM oidc_pending_authorization"
    ).fetchone()[0]
    assert "extra_param" not in stored
