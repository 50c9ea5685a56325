"""Helpers for ``test_login_consent_*.py``: the login and consent pages, their forms, the
session cookie and row counts.
"""

from __future__ import annotations

from typing import Any

import webtest

from tests.support.flow import Flow, hidden

CB = "https://rp.example/cb"
CB2 = "https://rp.example/cb2?x=1"
STATE = "st4te-Ω"


def login_page(flow: Flow, **overrides: Any) -> webtest.TestResponse:
    response = flow.start(**overrides)
    assert response.status_int == 303, response.status
    assert response.headers["Location"].startswith(flow.issuer + "/login?interaction=")
    return flow.app.get(response.headers["Location"])


def consent_page(flow: Flow, **overrides: Any) -> webtest.TestResponse:
    response = flow.login(login_page(flow, **overrides))
    assert response.status_int == 303, response.status
    assert response.headers["Location"].startswith(flow.issuer + "/consent?interaction=")
    return flow.app.get(response.headers["Location"])


def post_form(
    app: webtest.TestApp, path: str, page: webtest.TestResponse, **fields: str | None
) -> webtest.TestResponse:
    """Submit the page's form (hidden fields from ``page``; ``None`` removes a field)."""
    data: dict[str, str | None] = {
        "interaction": hidden(page, "interaction"),
        "csrf_token": hidden(page, "csrf_token"),
    }
    data.update(fields)
    return app.post(path, {k: v for k, v in data.items() if v is not None}, expect_errors=True)
