"""Operations: health checks, request ids, access logs and metrics, under every mount
(``docs/deployment.md``)."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest
from webob import Request, Response

from oidc_core import Provider, routes
from oidc_core import logging as request_logs
from oidc_core.keys import create_key_if_missing
from oidc_core.settings import ConfigurationError
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from tests.conftest import FAST_PASSWORDS
from tests.support.admin_api import new_token
from tests.support.flow import Flow
from tests.support.mounts import MountedApp, build, settings_for

GENERATED_ID = re.compile(r"[0-9a-f]{16}")


# -- health -----------------------------------------------------------------------------------


def test_liveness_and_readiness_answer_ok_uncached(app: MountedApp) -> None:
    for path in ("/health/live", "/health/ready"):
        response = app.get(path)
        assert response.status_int == 200
        assert response.json == {"status": "ok"}
        assert response.headers["Cache-Control"] == "no-store"
        assert GENERATED_ID.fullmatch(response.headers["X-Request-Id"])


def test_health_endpoints_refuse_other_methods(app: MountedApp) -> None:
    response = app.post("/health/ready", expect_errors=True)
    assert response.status_int == 405 and response.json["error"] == "invalid_request"


def test_discovery_advertises_no_health_or_metrics_endpoint(app: MountedApp) -> None:
    text = app.get("/.well-known/openid-configuration").text
    assert "health" not in text and "metrics" not in text


@pytest.fixture
def own_database(
    tmp_path: Path, storage: Storage, mount_name: str
) -> Iterator[tuple[Provider, Path, MountedApp]]:
    """A provider on its own SQLite file, with the schema and no signing key, in a directory
    the test can move."""
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder}/op.db"
    fresh = Storage(url)
    fresh.upgrade()
    mount = build(mount_name, settings_for(mount_name, url, **FAST_PASSWORDS), fresh)
    try:
        yield mount.provider, folder, mount.browser()
    finally:
        mount.provider.storage.close()
        database_proxy.initialize(storage.database)  # give the suite its database back


def _not_ready(app: MountedApp, reason: str) -> None:
    response = app.get("/health/ready", expect_errors=True)
    assert response.status_int == 503, response.text
    assert response.json == {"status": "unavailable", "reason": reason}
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in response.text


def test_readiness_needs_a_signing_key(
    own_database: tuple[Provider, Path, MountedApp],
) -> None:
    """The schema's part: ``tests/flows/test_schema_check.py``."""
    own, _, app = own_database
    _not_ready(app, "there is no current signing key")
    create_key_if_missing(own.storage)
    assert app.get("/health/ready").json == {"status": "ok"}


def test_readiness_is_503_while_the_database_is_away_and_liveness_stays_200(
    own_database: tuple[Provider, Path, MountedApp], caplog: pytest.LogCaptureFixture
) -> None:
    own, folder, app = own_database
    create_key_if_missing(own.storage)
    assert app.get("/health/ready").status_int == 200

    own.storage.close()
    moved = folder.with_name("moved")
    shutil.move(folder, moved)
    with caplog.at_level(logging.WARNING, logger="oidc_core.health"):
        _not_ready(app, "the database is unreachable")
    assert "not ready: the database is unreachable" in caplog.text
    assert app.get("/health/live").json == {"status": "ok"}

    shutil.move(moved, folder)  # back: the next check reconnects
    assert app.get("/health/ready").json == {"status": "ok"}


def test_readiness_is_503_when_the_database_server_refuses_connections(
    storage: Storage, mount_name: str
) -> None:
    url = "postgresql://postgres@127.0.0.1:1/closed"  # port 1: nothing listens
    mount = build(mount_name, settings_for(mount_name, url, **FAST_PASSWORDS), Storage(url))
    try:
        _not_ready(mount.browser(), "the database is unreachable")
        assert mount.browser().get("/health/live").status_int == 200
    finally:
        mount.provider.storage.close()
        database_proxy.initialize(storage.database)


# -- request ids ------------------------------------------------------------------------------


def test_a_safe_incoming_request_id_is_echoed(app: MountedApp) -> None:
    for safe in ("a", "req-42_x.Y", "A" * 64):
        response = app.get("/health/live", headers={"X-Request-Id": safe})
        assert response.headers["X-Request-Id"] == safe


@pytest.mark.parametrize(
    "unsafe", ["A" * 65, "has space", "<script>", "a/b", "id;drop", "é", "a\tb"]
)
def test_an_unsafe_incoming_request_id_is_replaced(app: MountedApp, unsafe: str) -> None:
    response = app.get("/health/live", headers={"X-Request-Id": unsafe})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-Id"])


def test_every_response_gets_its_own_request_id(app: MountedApp) -> None:
    ids = {app.get("/jwks").headers["X-Request-Id"] for _ in range(3)}
    ids.add(app.get("/no-such-page", expect_errors=True).headers["X-Request-Id"])
    assert len(ids) == 4


def _broken(op: Provider, request: Request) -> Response:
    raise RuntimeError("a bug")


def test_the_correlation_id_of_a_500_is_the_request_id(
    app: MountedApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(routes.BY_PATH, "/broken", routes.Route("broken", _broken, ("/broken",)))
    caplog.handler.addFilter(request_logs.RequestIdFilter())
    with caplog.at_level(logging.ERROR, logger="oidc_core.provider"):
        response = app.get("/broken", headers={"X-Request-Id": "trace-500"}, expect_errors=True)
    assert response.status_int == 500
    assert response.headers["X-Request-Id"] == "trace-500"
    assert "(correlation id trace-500)" in response.json["error_description"]
    [record] = [r for r in caplog.records if r.name == "oidc_core.provider"]
    assert record.request_id == "trace-500" and "correlation id trace-500" in record.getMessage()


# -- logs -------------------------------------------------------------------------------------


def test_json_log_lines_carry_the_request_id_and_never_codes_or_tokens(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(request_logs.RequestIdFilter())
    with caplog.at_level(logging.DEBUG):
        callback = flow.authorize()
        response = flow.token(callback["code"])
    assert response.status_int == 200
    secrets_seen = (callback["code"], response.json["access_token"], flow.user.password)
    lines = [json.loads(request_logs.JsonFormatter().format(r)) for r in caplog.records]
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
        for secret in secrets_seen:
            assert secret not in json.dumps(line)
        assert not (line["logger"].startswith("oauthlib") and line["level"] == "DEBUG")
    access = [line for line in lines if line["logger"] == "oidc_core.access"]
    token_line = next(line for line in access if line["path"].endswith("/token"))
    assert token_line["request_id"] == response.headers["X-Request-Id"]
    assert token_line["method"] == "POST" and token_line["status"] == 200
    assert token_line["duration_ms"] >= 0 and token_line["client"]
    authorize_line = next(line for line in access if line["path"].endswith("/authorize"))
    assert "?" not in authorize_line["path"]


def test_a_line_break_in_the_path_cannot_forge_an_access_line(
    app: MountedApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="oidc_core.access"):
        app.get("/x%0A2026-01-01 INFO forged", expect_errors=True)
    [record] = [r for r in caplog.records if r.name == "oidc_core.access"]
    assert "\n" not in record.getMessage() and "/x\\x0a2026" in record.getMessage()


def test_oauthlib_never_logs_below_info(provider: Provider) -> None:
    logging.getLogger("oauthlib").setLevel(logging.NOTSET)
    request_logs.quiet()
    assert logging.getLogger("oauthlib").level == logging.INFO


# -- metrics ----------------------------------------------------------------------------------


def _metrics(app: webtest.TestApp, token: str) -> dict[str, float]:
    response = app.get("/admin/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    values = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_metrics_need_an_admin_api_token(app: MountedApp) -> None:
    missing = app.get("/admin/metrics", expect_errors=True)
    assert missing.status_int == 401 and "WWW-Authenticate" in missing.headers
    wrong = app.get(
        "/admin/metrics", headers={"Authorization": "Bearer not-a-token"}, expect_errors=True
    )
    assert wrong.status_int == 401 and wrong.json["error"] == "invalid_token"
    assert "oidc_requests_total" not in wrong.text


def test_metrics_count_requests_tokens_and_login_failures(flow: Flow, provider: Provider) -> None:
    _, token = new_token(provider)
    before = _metrics(flow.app, token)
    page = flow.start()
    page = flow.app.get(page.headers["Location"])
    assert flow.login(page, password="wrong password").status_int == 401
    callback = flow.authorize()
    assert flow.token(callback["code"]).status_int == 200
    flow.app.get("/no-such-page", expect_errors=True)
    after = _metrics(flow.app, token)

    def moved(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert moved('oidc_tokens_issued_total{grant_type="authorization_code"}') == 1
    assert moved("oidc_login_failures_total") == 1
    assert moved('oidc_requests_total{endpoint="token",status="200"}') == 1
    assert moved('oidc_requests_total{endpoint="other",status="404"}') == 1
    assert moved('oidc_request_duration_seconds_count{endpoint="token"}') == 1
    assert (
        after['oidc_request_duration_seconds_bucket{endpoint="token",le="+Inf"}']
        == after['oidc_request_duration_seconds_count{endpoint="token"}']
    )
    assert not any("no-such-page" in name for name in after)


def test_each_provider_counts_its_own_requests(app: MountedApp, provider: Provider) -> None:
    _, token = new_token(provider)
    before = _metrics(app, token)
    other = Provider(provider.settings, storage=provider.storage)
    other_app = webtest.TestApp(other)
    for _ in range(3):
        other_app.get("/health/live")
    counted = _metrics(other_app, token)
    assert counted['oidc_requests_total{endpoint="health_live",status="200"}'] == 3
    assert counted["oidc_login_failures_total"] == 0
    assert not any("_created" in name for name in counted)  # the exposition as before
    after = _metrics(app, token)
    name = 'oidc_requests_total{endpoint="health_live",status="200"}'
    assert after.get(name, 0) == before.get(name, 0)


def test_a_multiprocess_directory_set_too_late_stops_the_start(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # prometheus_client read the environment when it was imported, without the variable:
    # the counts would stay in each process while the scrape read the empty directory.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with pytest.raises(ConfigurationError, match="PROMETHEUS_MULTIPROC_DIR was set after"):
        Provider(provider.settings, storage=provider.storage)
