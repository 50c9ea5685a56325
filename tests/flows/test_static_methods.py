"""The static files and the root's pointer to discovery are read-only: GET and HEAD only.

Any other method gets 405 with ``Allow``, never the file's body or a 200; an unknown path
stays a 404 whatever the method.
"""

from __future__ import annotations

import pytest

from tests.support.mounts import MountedApp

READ_ONLY = ["/static/oidc.css", "/static/passkeys.js", "/"]


@pytest.mark.parametrize("path", READ_ONLY)
def test_get_and_head_answer(app: MountedApp, path: str) -> None:
    got = app.get(path)
    assert got.status_int == 200 and got.body
    head = app.head(path)
    assert head.status_int == 200 and head.body == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", READ_ONLY)
def test_other_methods_are_405_with_allow(app: MountedApp, path: str, method: str) -> None:
    body = app.get(path).body
    response = app.request(path, method=method, body=b"x=1", expect_errors=True)
    assert response.status_int == 405, (method, path, response.status)
    assert response.headers["Allow"] == "GET, HEAD"
    assert body not in response.body
    assert "Traceback" not in response.text


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_an_unknown_path_is_404_whatever_the_method(app: MountedApp, method: str) -> None:
    for path in ("/static/nothing.css", "/nothing"):
        response = app.request(path, method=method, expect_errors=True)
        assert response.status_int == 404, (method, path, response.status)
