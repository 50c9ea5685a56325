"""Faults never leak a traceback: a bug is a 500 and a storage failure a 503 (rule 9).

Discovery and the JWK Set keep answering from the process's cache while the database is
away (T-72), and the provider reconnects on its own when it is back.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest
from webob import Request, Response

from oidc_core import Provider, routes
from oidc_core.keys import create_key_if_missing
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from tests.conftest import FAST_PASSWORDS
from tests.support.mounts import MountedApp, build, settings_for


def _broken_handler(op: Provider, request: Request) -> Response:
    raise RuntimeError("a bug with a secret in its message: s3cr3t")


@pytest.mark.parametrize(
    ("html", "content_type"), [(False, "application/json"), (True, "text/html")]
)
def test_unexpected_exception_is_a_500_without_traceback(
    app: webtest.TestApp,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    html: bool,
    content_type: str,
) -> None:
    broken = routes.Route("broken", _broken_handler, ("/broken",), html=html)
    monkeypatch.setitem(routes.BY_PATH, "/broken", broken)
    with caplog.at_level(logging.ERROR, logger="oidc_core.provider"):
        response = app.get("/broken", expect_errors=True)
    assert response.status_int == 500
    assert response.content_type == content_type
    assert "Traceback" not in response.text and "s3cr3t" not in response.text
    correlation = response.text.split("correlation id ")[1][:16]
    assert correlation in caplog.text and "RuntimeError" in caplog.text


@pytest.fixture
def detachable(
    tmp_path: Path, storage: Storage, mount_name: str
) -> Iterator[tuple[Provider, Path, MountedApp]]:
    """A provider on its own SQLite file in a directory the test can take away."""
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder}/op.db"
    fresh = Storage(url)
    fresh.upgrade()
    create_key_if_missing(fresh)
    mount = build(mount_name, settings_for(mount_name, url, **FAST_PASSWORDS), fresh)
    own = mount.provider
    try:
        yield own, folder, mount.browser()
    finally:
        own.storage.close()
        database_proxy.initialize(storage.database)  # give the suite its database back


def test_database_unavailable_is_503_and_discovery_keeps_answering(
    detachable: tuple[Provider, Path, MountedApp], caplog: pytest.LogCaptureFixture
) -> None:
    own, folder, app = detachable
    assert app.get("/jwks").status_int == 200  # warms the key cache
    discovery = app.get("/.well-known/openid-configuration").json

    own.storage.close()
    moved = folder.with_name("moved")
    shutil.move(folder, moved)
    with caplog.at_level(logging.ERROR, logger="oidc_core.provider"):
        token = app.post(
            "/token", {"grant_type": "authorization_code", "code": "x"}, expect_errors=True
        )
        page = app.get(
            "/authorize?client_id=x&redirect_uri=https://rp.example/cb", expect_errors=True
        )
    assert token.status_int == 503
    assert token.json["error"] == "temporarily_unavailable"
    assert token.headers["Retry-After"] and token.headers["Cache-Control"] == "no-store"
    assert page.status_int == 503 and page.content_type == "text/html"
    assert "Location" not in page.headers
    for response in (token, page):
        assert "Traceback" not in response.text
    assert "correlation id" in caplog.text
    assert app.get("/jwks").status_int == 200
    assert app.get("/.well-known/openid-configuration").json == discovery

    shutil.move(moved, folder)  # the database is back: the next request reconnects
    again = app.post(
        "/token", {"grant_type": "authorization_code", "code": "x"}, expect_errors=True
    )
    assert again.status_int == 401 and again.json["error"] == "invalid_client"
