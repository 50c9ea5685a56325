"""Concurrent redemption of one code (SECURITY-CHECKLIST T-59, R-AC-1).

Every request runs in its own thread with its own WebTest app over the shared provider,
so each thread has its own database connection (peewee keeps one per thread); a barrier
releases them together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support.flow import Flow

REPEAT = 20


def run_together(
    provider: Provider, count: int, request: Callable[[webtest.TestApp], object]
) -> list[Any]:
    """Run ``request`` in ``count`` threads released at once; their results in order."""
    barrier = threading.Barrier(count)

    def worker(_: int) -> object:
        app = new_app(provider)
        try:
            barrier.wait(timeout=30)
            return request(app)
        finally:
            provider.storage.release()
            provider.storage.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def redeem(flow: Flow, code: str) -> Callable[[webtest.TestApp], tuple[int, dict[str, Any]]]:
    def request(app: webtest.TestApp) -> tuple[int, dict[str, Any]]:
        response = Flow(app, flow.client, flow.user, verifier=flow.verifier).token(code)
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        return response.status_int, response.json

    return request


def count_rows(provider: Provider, where: str = "") -> int:
    sql = "SELECT COUNT(*) FROM oidc_access_token" + (f" WHERE {where}" if where else "")
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


@pytest.mark.parametrize("threads", [2, 20])
@pytest.mark.parametrize("attempt", range(REPEAT))
def test_t59_one_code_redeemed_concurrently_succeeds_exactly_once(
    flow: Flow, provider: Provider, threads: int, attempt: int
) -> None:
    code = flow.code_with_pkce()
    results = run_together(provider, threads, redeem(flow, code))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * (threads - 1), statuses
    assert all(body["error"] == "invalid_grant" for status, body in results if status != 200)
    token = next(body["access_token"] for status, body in results if status == 200)

    assert count_rows(provider) == 1  # one token family for the code, nothing lost
    live = count_rows(provider, "revoked_at IS NULL")
    assert live <= 1  # 0 when a loser saw the code used and reuse detection revoked it
    response = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + token}, expect_errors=True
    )
    assert response.status_int == (200 if live else 401)


def test_t59_distinct_codes_redeemed_concurrently_all_succeed(
    flow: Flow, provider: Provider
) -> None:
    codes = [flow.authorize()["code"] for _ in range(20)]
    lock = threading.Lock()

    def request(app: webtest.TestApp) -> int:
        with lock:
            code = codes.pop()
        return Flow(app, flow.client, flow.user).token(code).status_int

    assert run_together(provider, 20, request) == [200] * 20
    assert count_rows(provider, "revoked_at IS NULL") == 20
