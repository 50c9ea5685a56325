"""Helpers for ``test_authorize_errors_*.py``: the two kinds of refusal of the
authorization endpoint (an error page; a redirect with ``error``, ``state`` and ``iss``).
"""

from __future__ import annotations

import webtest

from oidc_core import Provider
from tests.support.flow import (
    issuer_of,
    query_of,
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
