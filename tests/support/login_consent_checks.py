"""Checks of the login and consent pages' answers: an HTML page without redirect or
cookie, or a 303 to the relying party with ``iss``.
"""

from __future__ import annotations

import webtest

from tests.support.flow import issuer_of, query_of
from tests.support.login_consent import CB


def assert_page(response: webtest.TestResponse, status: int) -> None:
    assert response.status_int == status, response.status
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert "Traceback" not in response.text


def assert_rp_redirect(response: webtest.TestResponse, redirect_uri: str = CB) -> dict[str, str]:
    """303 to the registered URI with iss; returns the callback query."""
    assert response.status_int == 303, (response.status, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(redirect_uri + ("&" if "?" in redirect_uri else "?")), location
    callback = query_of(location)
    assert callback["iss"] == issuer_of(response.test_app)
    return callback
