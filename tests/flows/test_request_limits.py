"""Request size limits at the provider's WSGI entry (design rule 8, T-12, T-78).

Headers over ``max_header_bytes`` get 431, a path and query over ``max_url_length`` 414, a
body over ``max_body_bytes`` 413 (also one sent without a Content-Length, which is read no
further than the limit), more than 100 parameters or a value over ``max_param_length`` 400.
API endpoints answer with a JSON OAuth error, browser endpoints with the HTML error page;
never a stack trace, never a redirect.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import webtest
from webob import Request

from oidc_core import Provider
from oidc_core.mfa import passkeys
from tests.support.flow import Flow
from tests.support.timing import fastest_of

FORM = "application/x-www-form-urlencoded"

# Answers in HTML: the authorization endpoint, the pages, the console, unknown paths.
BROWSER_PATHS = [
    "/authorize",
    "/login",
    "/consent",
    "/end_session",
    "/admin/",
    "/admin/login",
    "/admin/clients/new",
    "/nothing-here",
]
# Answers in JSON.
API_PATHS = [
    "/token",
    "/userinfo",
    "/revoke",
    "/introspect",
    "/jwks",
    "/.well-known/openid-configuration",
    "/admin/api/clients",
]
# Every path that reads a form body.
FORM_POST_PATHS = [
    "/authorize",
    "/login",
    "/consent",
    "/end_session",
    "/admin/login",
    "/token",
    "/userinfo",
    "/revoke",
    "/introspect",
]


def assert_refused(response: webtest.TestResponse, status: int, path: str) -> None:
    """``status`` in the endpoint's own format, no redirect, no stack trace."""
    assert response.status_int == status, (path, response.status, response.text[:300])
    assert "Location" not in response.headers
    assert "Traceback" not in response.text
    assert response.headers["Cache-Control"] == "no-store"
    if path in API_PATHS or path.startswith("/admin/api/"):
        assert response.content_type == "application/json"
        assert response.json["error"] == "invalid_request"
    else:
        assert response.content_type == "text/html"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "<h1>" in response.text


@pytest.mark.parametrize("path", BROWSER_PATHS + API_PATHS)
def test_headers_over_max_header_bytes_are_431(
    app: webtest.TestApp, provider: Provider, path: str
) -> None:
    limit = provider.settings.max_header_bytes
    response = app.get(path, headers={"X-Filler": "h" * limit}, expect_errors=True)
    assert_refused(response, 431, path)
    assert "headers are too large" in response.text


def test_many_headers_count_together(app: webtest.TestApp, provider: Provider) -> None:
    """The limit is on the total, not on each header."""
    share = provider.settings.max_header_bytes // 10
    headers = {f"X-Part-{i}": "h" * share for i in range(11)}
    assert_refused(app.get("/token", headers=headers, expect_errors=True), 431, "/token")


def test_headers_under_the_limit_are_served(app: webtest.TestApp, provider: Provider) -> None:
    filler = "h" * (provider.settings.max_header_bytes // 2)
    response = app.get("/.well-known/openid-configuration", headers={"X-Filler": filler})
    assert response.status_int == 200


@pytest.mark.parametrize("path", BROWSER_PATHS + API_PATHS)
def test_urls_over_max_url_length_are_414(
    app: webtest.TestApp, provider: Provider, path: str
) -> None:
    limit = provider.settings.max_url_length
    response = app.get(path + "?q=" + "u" * limit, expect_errors=True)
    assert_refused(response, 414, path)
    assert "URL is too long" in response.text


def test_a_long_path_alone_is_414(app: webtest.TestApp, provider: Provider) -> None:
    path = "/admin/clients/" + "p" * provider.settings.max_url_length
    assert_refused(app.get(path, expect_errors=True), 414, path)


@pytest.mark.parametrize("path", [*FORM_POST_PATHS, "/admin/logout", "/admin/api/clients", "/jwks"])
def test_bodies_over_max_body_bytes_are_413(
    app: webtest.TestApp, provider: Provider, path: str
) -> None:
    body = b"a=" + b"b" * provider.settings.max_body_bytes
    response = app.post(path, body, content_type=FORM, expect_errors=True)
    assert_refused(response, 413, path)


class EndlessBody(io.RawIOBase):
    """A request body without end, as a client streaming chunks forever would send; it
    counts what is read and fails the test if reading goes far past the limit."""

    def __init__(self, chunk: bytes = b"a=" + b"x" * 1022) -> None:
        self.chunk = chunk
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size >= 0, "an unbounded read of the request body"
        self.read_bytes += size
        assert self.read_bytes < 10_000_000, "read far past the body limit"
        return (self.chunk * (size // len(self.chunk) + 1))[:size]


def chunked(app: webtest.TestApp, path: str, body: Any) -> Request:
    """A POST to the provider's ``path`` whose body has no Content-Length (chunked), for
    the provider itself (hosts such as Bottle read a chunked body in their own way)."""
    request = Request.blank(
        path,
        base_url="https://op.example" + app.mount.prefix,
        method="POST",
        headers={"Transfer-Encoding": "chunked", "Content-Type": FORM},
    )
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input"] = body
    request.environ["wsgi.input_terminated"] = True  # the server de-chunks (WSGI 1.0 + PEP 3333)
    return request


@pytest.mark.parametrize("path", [*FORM_POST_PATHS, "/admin/logout", "/admin/api/clients"])
def test_an_endless_body_without_content_length_is_413_after_reading_the_limit(
    app: webtest.TestApp, provider: Provider, path: str
) -> None:
    """T-78: a chunked body is read up to the limit (plus one byte), then refused."""
    body = EndlessBody()
    response = chunked(app, path, body).get_response(provider)
    assert response.status_int == 413, (path, response.status)
    assert "Traceback" not in response.text
    assert body.read_bytes == provider.settings.max_body_bytes + 1


def test_a_chunked_body_within_the_limit_is_read(flow: Flow, provider: Provider) -> None:
    """A token request sent without a Content-Length works like any other."""
    code = flow.authorize()["code"]
    form = (
        f"grant_type=authorization_code&code={code}&redirect_uri={flow.client.redirect_uris[0]}"
        f"&client_id={flow.client.client_id}&client_secret={flow.client.client_secret}"
    )
    request = chunked(flow.app, "/token", io.BytesIO(form.encode()))
    response = request.get_response(provider)
    assert response.status_int == 200, response.text
    assert response.json["token_type"] == "Bearer"


@pytest.mark.parametrize("path", FORM_POST_PATHS)
def test_ten_thousand_form_fields_are_400_quickly(app: webtest.TestApp, path: str) -> None:
    """T-78: 10 000 fields (30 KB, under the body limit) are refused without parsing them
    all; generously fast on a loaded machine."""
    body = "a=&" * 10_000
    elapsed, response = fastest_of(
        3, lambda: app.post(path, body, content_type=FORM, expect_errors=True)
    )
    assert response.status_int == 400, (path, response.status, response.text[:300])
    assert "Traceback" not in response.text
    assert "too many parameters" in response.text
    assert elapsed < 1.0, elapsed


def test_ten_thousand_query_parameters_are_refused(app: webtest.TestApp) -> None:
    """T-12: the same in the query of a GET authorization request (400 or 414)."""
    response = app.get("/authorize?" + "a=&" * 10_000, expect_errors=True)
    assert response.status_int in (400, 414)
    assert "Location" not in response.headers


@pytest.mark.parametrize("path", FORM_POST_PATHS)
def test_a_value_over_max_param_length_is_400(
    app: webtest.TestApp, provider: Provider, path: str
) -> None:
    limit = max(provider.settings.max_param_length, provider.settings.password_max_length + 64)
    if path == "/login":  # its form may carry a passkey's answer (JSON) instead of a password
        limit = max(limit, passkeys.MAX_RESPONSE)
    response = app.post(path, {"v": "x" * (limit + 1)}, expect_errors=True)
    assert response.status_int == 400, (path, response.status)
    assert "Traceback" not in response.text
    assert "too long" in response.text


def test_admin_api_with_thousands_of_json_members_is_refused(app: webtest.TestApp) -> None:
    """The JSON API: 6 000 members in an object (under the body limit) is a 4xx JSON
    error, quickly, without a stack trace."""
    body = "{" + ",".join(f'"k{i}":0' for i in range(6000)) + "}"
    elapsed, response = fastest_of(
        3,
        lambda: app.post(
            "/admin/api/clients", body, content_type="application/json", expect_errors=True
        ),
    )
    assert elapsed < 1.0, elapsed
    assert 400 <= response.status_int < 500
    assert response.content_type == "application/json"
    assert "Traceback" not in response.text
