"""Malformed token requests: bad code values (T-39), grant types (T-41) and malformed
requests (T-42); a refusal never consumes the code.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
import webtest

from tests.support.flow import Flow
from tests.support.token_endpoint import assert_error, basic, post_token

# -- T-39 bad code values ------------------------------------------------------------------------

BAD_CODES: list[tuple[str, Callable[[str], str], str]] = [
    ("random", lambda code: secrets.token_urlsafe(32), "invalid_grant"),
    ("truncated", lambda code: code[:-1], "invalid_grant"),
    ("extended", lambda code: code + "A", "invalid_grant"),
    ("other-case", lambda code: code.swapcase(), "invalid_grant"),
    ("empty", lambda code: "", "invalid_grant"),
    ("non-ascii", lambda code: "\u00e9\u4e2d\U0001f600" * 10, "invalid_grant"),
    ("lone-surrogate-escape", lambda code: code + "%ED%A0%80", "invalid_grant"),
    ("10-KiB", lambda code: "a" * 10 * 1024, "invalid_request"),
    ("nul", lambda code: code + "\x00", "invalid_request"),
    ("only-nul", lambda code: "\x00", "invalid_request"),
    ("crlf", lambda code: code + "\r\n", "invalid_grant"),
]


@pytest.mark.parametrize(
    ("make_code", "error"),
    [pytest.param(make, error, id=name) for name, make, error in BAD_CODES],
)
def test_t39_bad_code_value_is_refused_without_5xx(
    flow: Flow, make_code: Callable[[str], str], error: str
) -> None:
    code = flow.authorize()["code"]
    assert_error(flow.token(make_code(code)), 400, error)
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize(
    ("code_bytes", "error"),
    [
        pytest.param(b"%FF%FE", "invalid_request", id="percent-encoded-non-utf8"),
        pytest.param(b"%C0%AF", "invalid_request", id="percent-encoded-overlong-utf8"),
        pytest.param(b"%ED%A0%80", "invalid_request", id="percent-encoded-surrogate"),
        pytest.param(b"\xff\xfe", "invalid_request", id="raw-non-utf8"),
        pytest.param(b"\xc0\xaf", "invalid_request", id="raw-overlong-utf8"),
        pytest.param(b"%00", "invalid_request", id="percent-encoded-nul"),
    ],
)
def test_t39_non_utf8_code_is_refused_without_5xx(
    flow: Flow, code_bytes: bytes, error: str
) -> None:
    code = flow.authorize()["code"]
    body = (
        b"grant_type=authorization_code&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code="
        + code_bytes
    )
    headers = basic(flow.client.client_id, flow.client.client_secret)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert_error(post_token(flow.app, body, headers=headers), 400, error)
    assert flow.token(code).status_int == 200


# -- T-41 grant types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "implicit",
        "foo",
        "openid",
        "AUTHORIZATION_CODE",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
)
def test_t41_other_grant_types_are_unsupported(flow: Flow, grant_type: str) -> None:
    code = flow.authorize()["code"]
    response = flow.token(
        code, grant_type=grant_type, refresh_token="x", username="alice", password="pw"
    )
    assert_error(response, 400, "unsupported_grant_type")
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize("grant_type", [None, ""], ids=["missing", "empty"])
def test_t41_missing_grant_type_is_invalid_request(flow: Flow, grant_type: str | None) -> None:
    # RFC 6749 3.1: an empty parameter is an omitted one; 5.2: a missing required one is
    # invalid_request.
    code = flow.authorize()["code"]
    assert_error(flow.token(code, grant_type=grant_type), 400, "invalid_request")
    assert flow.token(code).status_int == 200


# -- T-42 malformed requests -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_t42_other_methods_are_405_with_allow_post(app: webtest.TestApp, method: str) -> None:
    response = app.request("/token", method=method, expect_errors=True)
    assert_error(response, 405, "invalid_request")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "duplicate",
    ["code", "grant_type", "redirect_uri", "client_id", "client_secret", "code_verifier", "scope"],
)
def test_t42_repeated_parameter_is_invalid_request(flow: Flow, duplicate: str) -> None:
    code = flow.code_with_pkce()
    pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", flow.client.redirect_uris[0]),
        ("client_id", flow.client.client_id),
        ("client_secret", flow.client.client_secret),
        ("code_verifier", flow.verifier),
        ("scope", "openid"),
    ]
    pairs.append(next(pair for pair in pairs if pair[0] == duplicate))
    assert_error(post_token(flow.app, pairs), 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_json_body_is_invalid_request(flow: Flow) -> None:
    code = flow.authorize()["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
    }
    headers = basic(flow.client.client_id, flow.client.client_secret)
    response = flow.app.post_json("/token", data, headers=headers, expect_errors=True)
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "text/plain", "application/xml", ""]
)
def test_t42_body_that_is_not_form_encoded_is_invalid_request(
    flow: Flow, content_type: str
) -> None:
    code = flow.authorize()["code"]
    body = (
        f"grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    ).encode()
    headers = basic(flow.client.client_id, flow.client.client_secret)
    if content_type:
        headers["Content-Type"] = content_type
    response = flow.app.request(
        "/token", method="POST", body=body, headers=headers, expect_errors=True
    )
    assert response.request.headers.get("Content-Type", "") == content_type
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_parameters_in_the_query_string_are_invalid_request(flow: Flow) -> None:
    code = flow.authorize()["code"]
    headers = basic(flow.client.client_id, flow.client.client_secret)
    query = f"grant_type=authorization_code&code={code}&redirect_uri={flow.client.redirect_uris[0]}"
    response = flow.app.post(f"/token?{query}", headers=headers, expect_errors=True)
    assert_error(response, 400, "invalid_request")
    response = flow.app.post(
        f"/token?code={code}",
        {"grant_type": "authorization_code", "redirect_uri": flow.client.redirect_uris[0]},
        headers=headers,
        expect_errors=True,
    )
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_form_content_type_with_charset_is_accepted(flow: Flow) -> None:
    code = flow.authorize()["code"]
    body = (
        f"grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    ).encode()
    headers = basic(flow.client.client_id, flow.client.client_secret)
    headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
    assert post_token(flow.app, body, headers=headers).status_int == 200


def test_t42_oversized_body_is_413_json(flow: Flow) -> None:
    code = flow.authorize()["code"]
    response = flow.token(code, padding="x" * 70_000)
    assert_error(response, 413, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_unknown_parameters_are_ignored(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert flow.token(code, unknown="value", another="1").status_int == 200


def test_t42_missing_code_is_invalid_request(flow: Flow) -> None:
    flow.authorize()
    assert_error(flow.token(None), 400, "invalid_request")  # type: ignore[arg-type]
