"""Helpers for the token endpoint's tests (``test_token_endpoint_*.py`` and others): error
checks, Basic credentials, token requests and stored text.
"""

from __future__ import annotations

import base64
import re

import webtest

ERROR_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")


def assert_error(response: webtest.TestResponse, status: int, error: str) -> None:
    """An RFC 6749 5.2 error: status, JSON, no-store, a code and a clean description."""
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["error"] == error, response.json
    assert ERROR_DESCRIPTION.fullmatch(response.json.get("error_description", ""))


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def post_token(app: webtest.TestApp, data: object, **kwargs: object) -> webtest.TestResponse:
    return app.post("/token", data, expect_errors=True, **kwargs)


Credentials = tuple[dict[str, str], dict[str, str]]  # (extra headers, extra body)
