"""After ``client_id`` and ``redirect_uri`` are valid, errors are redirected to the
registered URI with ``error``, the exact ``state`` and ``iss``; unknown values, POST.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oidc_core import Provider
from tests.support.authorize_errors import CB, CB2, STATE, assert_error_page, assert_redirect_error
from tests.support.flow import (
    Flow,
    query_of,
)

# -- response_type, scope and other redirected errors ---------------------------------


def test_missing_response_type_is_redirected_invalid_request(flow: Flow) -> None:
    """T-06."""
    assert_redirect_error(flow.start(response_type=None, state=STATE), "invalid_request")


@pytest.mark.parametrize(
    "response_type",
    [
        "token",
        "id_token",
        "code id_token",
        "code token",
        "id_token token",
        "none",
        "foo",
        "CODE",
        "code code",
        " code",
        "code ",
    ],
)
def test_response_type_other_than_code_is_unsupported(flow: Flow, response_type: str) -> None:
    """T-07 (R-CL-6): only exactly ``code``; no implicit or hybrid flow."""
    response = flow.start(response_type=response_type, state=STATE)
    assert_redirect_error(response, "unsupported_response_type")


@pytest.mark.parametrize("scope", ["profile email", "email", "openidx", "OPENID", "", None])
def test_scope_without_openid_is_invalid_scope(flow: Flow, scope: str | None) -> None:
    """T-08 (R-AC-4): OpenID Connect only; plain OAuth requests are refused."""
    assert_redirect_error(flow.start(scope=scope, state=STATE), "invalid_scope")


def test_error_redirect_keeps_the_registered_query(flow: Flow) -> None:
    """T-04 / T-18: an error delivered to https://rp.example/cb2?x=1 keeps x=1."""
    response = flow.start(redirect_uri=CB2, scope="email", state=STATE)
    query = assert_redirect_error(response, "invalid_scope", redirect_uri=CB2)
    assert query["x"] == "1"


def test_error_redirect_without_state_has_no_state(flow: Flow) -> None:
    """T-18: state is echoed only when it was sent."""
    assert_redirect_error(
        flow.start(response_type="foo", state=None), "unsupported_response_type", state=None
    )


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", "99999999999"])
def test_malformed_max_age_is_redirected_invalid_request(flow: Flow, max_age: str) -> None:
    """OIDC Core 3.1.2.1: max_age is a non-negative integer; errors after the client check
    are redirected (T-18)."""
    assert_redirect_error(flow.start(max_age=max_age, state=STATE), "invalid_request")


@pytest.mark.parametrize(
    ("name", "error"),
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
def test_request_objects_are_refused(flow: Flow, name: str, error: str) -> None:
    """OIDC Core 6.1/6.2: refused, never silently ignored (nor fetched)."""
    value = "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwifQ."
    if name == "request_uri":
        value = "https://evil.example/request.jwt"
    assert_redirect_error(flow.start(state=STATE, **{name: value}), error)


@pytest.mark.parametrize(
    "claims",
    ["{bad", "[1]", '"userinfo"', "null", "[" * 2000],
    ids=["bad-json", "list", "string", "null", "deep-nesting"],
)
def test_malformed_claims_parameter_is_redirected_invalid_request(flow: Flow, claims: str) -> None:
    """OIDC Core 5.5: claims must be a JSON object; the error is redirected (T-18)."""
    response = flow.start(claims=claims, state=STATE)
    query = assert_redirect_error(response, "invalid_request")
    assert "claims" in query["error_description"]


def test_claims_object_is_accepted(flow: Flow) -> None:
    """OIDC Core 5.5: a well-formed claims request does not stop the flow."""
    callback = flow.authorize(claims='{"userinfo": {"email": {"essential": true}}}')
    assert flow.token(callback["code"]).status_int == 200


# -- unknown values, POST -------------------------------------------------------------


def test_unknown_parameter_is_ignored(flow: Flow) -> None:
    """T-11 (CS unknown-parameter)."""
    callback = flow.authorize(extra="foobar", state=STATE)
    assert callback["state"] == STATE
    assert flow.token(callback["code"]).status_int == 200


def test_unknown_scope_value_is_dropped(flow: Flow) -> None:
    """T-11: ``openid foo`` succeeds; the token carries only what exists."""
    callback = flow.authorize(scope="openid foo")
    assert flow.token(callback["code"]).json["scope"] == "openid"


def test_scope_order_does_not_matter(flow: Flow) -> None:
    """T-11 (CS alternate-happy-flow)."""
    callback = flow.authorize(scope="email profile openid")
    scope = flow.token(callback["code"]).json["scope"]
    assert set(scope.split()) == {"openid", "profile", "email"}


def test_post_authorization_request_succeeds_with_303(flow: Flow) -> None:
    """T-11 (CS post-request-succeeds); after a POST the redirect is 303 (R-OR-3)."""
    flow.authorize()
    response = flow.app.post("/authorize", flow.authorize_params(state=STATE))
    assert response.status_int == 303
    callback = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(CB + "?code=")
    assert (callback["state"], callback["iss"]) == (STATE, flow.issuer)
    assert flow.token(callback["code"]).status_int == 200


def test_post_authorization_error_is_redirected_with_303(flow: Flow) -> None:
    """T-18 / R-OR-3: an error answer to a POST is a 303 too."""
    params = flow.authorize_params(response_type="token", state=STATE)
    response = flow.app.post("/authorize", params, expect_errors=True)
    assert_redirect_error(response, "unsupported_response_type", status=303)


def test_post_authorization_request_must_be_form_encoded(flow: Flow, provider: Provider) -> None:
    """T-12: a JSON body is not a form; refused as a page."""
    response = flow.app.post_json("/authorize", flow.authorize_params(), expect_errors=True)
    assert_error_page(response, provider)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused(flow: Flow, provider: Provider, method: str) -> None:
    """T-12: only GET and POST; a 405 page, never a redirect."""
    response = flow.app.request(
        "/authorize?" + urlencode(flow.authorize_params()), method=method, expect_errors=True
    )
    assert response.status_int == 405
    assert "Location" not in response.headers
