"""The authorization endpoint refusing bad requests (SECURITY-CHECKLIST section A, T-01..T-18).

Two kinds of refusal, decided by RFC 6749 section 4.1.2.1:

* until ``client_id`` and ``redirect_uri`` are both valid, an HTML error page (400, no
  ``Location``) and nothing stored;
* after that, a redirect to the registered URI (302 after GET, 303 after POST) carrying
  ``error``, the exact ``state`` and ``iss`` (RFC 9207), delivered in the query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import make_client
from tests.support.flow import (
    RP,
    Account,
    Flow,
    issuer_of,
    pkce_pair,
    query_of,
    verify_id_token,
)

CB = "https://rp.example/cb"
CB2 = "https://rp.example/cb2?x=1"
STATE = "xyz-state_1"


def code_rows(provider: Provider) -> int:
    sql = "SELECT COUNT(*) FROM oidc_authorization_code"
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


def assert_error_page(
    response: webtest.TestResponse, provider: Provider, status: int = 400
) -> None:
    """An error page: HTML 400 (or ``status``), no redirect, no stack trace, no code stored."""
    assert response.status_int == status, (response.status, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert response.content_type == "text/html"
    assert "Traceback" not in response.text
    assert code_rows(provider) == 0


def assert_redirect_error(
    response: webtest.TestResponse,
    error: str,
    *,
    state: str | None = STATE,
    redirect_uri: str = CB,
    status: int = 302,
) -> dict[str, str]:
    """A redirect error to the registered URI, in the query, with the exact state and iss."""
    assert response.status_int == status, (response.status, response.text[:300])
    location = response.headers["Location"]
    sep = "&" if "?" in redirect_uri else "?"
    assert location.startswith(redirect_uri + sep), location
    assert "#" not in location
    query = query_of(location)
    assert query["error"] == error, query
    assert query["iss"] == issuer_of(response.test_app)
    assert "code" not in query
    if state is None:
        assert "state" not in query
    else:
        assert query["state"] == state
    return query


def get_authorize(app: webtest.TestApp, query: str) -> webtest.TestResponse:
    return app.get("/authorize?" + query, expect_errors=True)


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


# -- open redirects through our own paths (T-13, T-14) --------------------------------

EVIL_TARGETS = ["https://evil.example", "//evil.example", "/\tevil.example", " //evil.example"]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_next_parameter_never_leads_off_host(flow: Flow, target: str) -> None:
    """T-13 (R-OR-1): ``next``/``return_to`` are not ours to follow, on any step."""
    response = flow.start(next=target, return_to=target, state=STATE)
    assert response.headers["Location"].startswith(flow.issuer + "/login?")
    page = flow.app.get(response.headers["Location"] + "&" + urlencode({"next": target}))
    form = {
        "interaction": page.forms[0]["interaction"].value,
        "csrf_token": page.forms[0]["csrf_token"].value,
        "email": flow.user.email,
        "password": flow.user.password,
        "next": target,
        "return_to": target,
    }
    response = flow.app.post("/login", form)
    assert response.headers["Location"].startswith(flow.issuer + "/consent?")
    page = flow.app.get(response.headers["Location"])
    form = {
        "interaction": page.forms[0]["interaction"].value,
        "csrf_token": page.forms[0]["csrf_token"].value,
        "decision": "allow",
        "next": target,
        "return_to": target,
    }
    response = flow.app.post("/consent", form)
    assert response.headers["Location"].startswith(CB + "?code=")


@pytest.mark.parametrize(
    "path",
    [
        "//evil.com/",
        "//evil.com/authorize",
        "/%09/evil.com",
        "/\\evil.com",
        "/authorize/",
        "/authorize//evil.com",
        "/login/",
        "/consent/",
        "/.well-known/openid-configuration/",
        "///evil.com/%2e%2e",
    ],
)
def test_odd_paths_never_redirect_off_host(app: webtest.TestApp, path: str) -> None:
    """T-14: no framework redirect (trailing slash etc.) can leave op.example."""
    response = app.get(path, expect_errors=True)
    assert response.status_int < 500
    location = response.headers.get("Location")
    assert location is None or urlsplit(location).netloc == "op.example", location


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
