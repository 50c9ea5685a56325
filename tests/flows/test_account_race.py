"""Revoking an app on the account page while the app refreshes or redeems a code
(SECURITY-CHECKLIST T-64): whatever the order, no live token is left for the user and
the app, and a refresh or redemption that answered 200 handed out dead tokens.

Each request runs in its own thread (its own database connection), released together by
a barrier; each race is repeated, on SQLite and on PostgreSQL (``OIDC_TEST_DATABASE_URL``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import new_app
from tests.support.account_pages import csrf, offline_rp, revoke
from tests.support.flow import RP, Account, Flow
from tests.support.race import racing
from tests.support.tokens import OFFLINE_SCOPES, refresh, userinfo_status

# Races between database transactions, which no mount changes: one mount.
pytestmark = pytest.mark.mounts("one")

REPEAT = 50


def race(provider: Provider, *calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread, released at once; their results in order."""
    with racing(provider, len(calls)) as racer:
        return racer.run(list(calls))


def live_tokens(storage: Storage, user: Account, rp: RP) -> dict[str, int]:
    """Unrevoked tokens and unused codes of the user for the app, counted in SQL."""
    p = storage.database.param
    of = (
        f"user_id = (SELECT id FROM oidc_user WHERE subject = {p}) "
        f"AND client_id = (SELECT id FROM oidc_client WHERE client_id = {p})"
    )
    counts = {}
    for table, alive in (
        ("oidc_access_token", "revoked_at IS NULL"),
        ("oidc_refresh_token", "revoked_at IS NULL"),
        ("oidc_authorization_code", "used_at IS NULL"),
    ):
        sql = f"SELECT COUNT(*) FROM {table} WHERE {of} AND {alive}"
        counts[table] = storage.database.execute_sql(sql, (user.subject, rp.client_id)).fetchone()[
            0
        ]
    return counts


def assert_dead(app: webtest.TestApp, rp: RP, response: webtest.TestResponse) -> None:
    """A token response that succeeded during the revocation handed out dead tokens."""
    if response.status_int != 200:
        assert response.json["error"] == "invalid_grant", response.text
        return
    assert userinfo_status(app, response.json["access_token"]) == 401
    assert refresh(app, rp, response.json["refresh_token"]).status_int == 400


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_rp(storage, "App A", "a.example")


@pytest.mark.parametrize("refreshes", [1, 10])  # T-64: ten refreshes of the grant
def test_t64_revoke_racing_refreshes_leaves_no_live_token(
    app: webtest.TestApp,
    provider: Provider,
    storage: Storage,
    rp: RP,
    alice: Account,
    refreshes: int,
) -> None:
    flow = Flow(app, rp, alice, scope=OFFLINE_SCOPES)
    clients = [new_app(provider) for _ in range(refreshes)]
    outcomes: set[str] = set()
    for _ in range(REPEAT):
        token = flow.token(flow.authorize()["code"]).json["refresh_token"]
        results = race(
            provider,
            partial(revoke, app, rp.client_id, token=csrf(app)),
            *[partial(refresh, client, rp, token) for client in clients],
        )
        assert results[0].status_int == 303, results[0].text[:300]
        assert live_tokens(storage, alice, rp) == dict.fromkeys(
            ("oidc_access_token", "oidc_refresh_token", "oidc_authorization_code"), 0
        )
        for response in results[1:]:
            assert_dead(app, rp, response)
        assert sum(r.status_int == 200 for r in results[1:]) <= 1
        outcomes.add("refreshed" if any(r.status_int == 200 for r in results[1:]) else "refused")
    print(f"T-64 refresh race outcomes over {REPEAT} runs: {sorted(outcomes)}")


def test_t64_revoke_racing_a_code_redemption_leaves_no_live_token(
    app: webtest.TestApp, provider: Provider, storage: Storage, rp: RP, alice: Account
) -> None:
    flow = Flow(app, rp, alice, scope=OFFLINE_SCOPES)
    client = new_app(provider)
    for _ in range(REPEAT):
        code = flow.authorize()["code"]
        revoked, redeemed = race(
            provider,
            partial(revoke, app, rp.client_id, token=csrf(app)),
            partial(Flow(client, rp, alice).token, code),
        )
        assert revoked.status_int == 303, revoked.text[:300]
        assert live_tokens(storage, alice, rp) == dict.fromkeys(
            ("oidc_access_token", "oidc_refresh_token", "oidc_authorization_code"), 0
        )
        assert_dead(app, rp, redeemed)
