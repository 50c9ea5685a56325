"""Open redirects through our own paths (T-13, T-14)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
import webtest

from tests.support.authorize_errors import CB, STATE
from tests.support.flow import (
    Flow,
)

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
