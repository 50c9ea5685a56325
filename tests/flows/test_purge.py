"""``oidc-core purge`` (:mod:`oidc_core.storage.purge`): rows past their retention go, live
rows and the rows replay detection still needs stay.

Rows are made by real flows over HTTP, then aged in SQL (or the purge is run at a later
``now``); what stays is checked through HTTP: a token that must live still works, a replay
still revokes its grant.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from oidc_core.storage.purge import purge
from tests.support.flow import RP, Account, Flow, query_of
from tests.support.token_endpoint import assert_error
from tests.support.tokens import offline_client, offline_flow, offline_tokens, refresh
from tests.support.tokens import userinfo_status as userinfo

# The purge works on the database; the flows only make its rows: one mount.
pytestmark = pytest.mark.mounts("one")

GRACE = 3600
WINDOW = 600


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_client(storage)


@pytest.fixture
def oflow(app: webtest.TestApp, rp: RP, alice: Account) -> Flow:
    return offline_flow(app, rp, alice)


def sql(storage: Storage, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    cursor = storage.database.execute_sql(statement.replace("?", storage.database.param), params)
    return list(cursor.fetchall()) if cursor.description else []


def count(storage: Storage, table: str) -> int:
    return int(sql(storage, f"SELECT COUNT(*) FROM {table}")[0][0])


def ids(storage: Storage, table: str) -> set[int]:
    return {row[0] for row in sql(storage, f"SELECT id FROM {table}")}


def run(**options: Any) -> dict[str, int]:
    return purge(**{"grace": GRACE, "failure_window": WINDOW, **options})


def test_rows_past_retention_are_deleted_and_live_ones_kept(
    oflow: Flow, rp: RP, storage: Storage, provider: Provider
) -> None:
    now = int(time.time())
    old = now - GRACE - 10  # past the grace period
    recent = now - GRACE + 300  # expired, but within the grace period
    old_grant = offline_tokens(oflow)
    live_grant = offline_tokens(oflow)
    # age every row of the first grant: its code, tokens and the grant's absolute expiry
    (old_code,) = sql(storage, "SELECT grant_id FROM oidc_refresh_token ORDER BY id LIMIT 1")[0]
    sql(storage, "UPDATE oidc_authorization_code SET expires_at = ? WHERE id = ?", old, old_code)
    sql(storage, "UPDATE oidc_access_token SET expires_at = ? WHERE grant_id = ?", old, old_code)
    sql(
        storage,
        "UPDATE oidc_refresh_token SET expires_at = ?, absolute_expires_at = ? WHERE grant_id = ?",
        old,
        old,
        old_code,
    )
    # sessions and their pending authorizations: one old, one recent, the live one
    session_ids = sorted(ids(storage, "oidc_browser_session"))
    assert len(session_ids) == 1
    sql(storage, "UPDATE oidc_pending_authorization SET expires_at = ?", old)
    for expires in (old, recent):
        sql(
            storage,
            "INSERT INTO oidc_browser_session (key_digest, csrf_secret, created_at, expires_at, "
            "user_agent, ip_address) VALUES (?, 'x', ?, ?, '', '')",
            f"{expires:064d}",
            expires - 100,
            expires,
        )
    (client_pk,) = sql(storage, "SELECT id FROM oidc_client WHERE client_id = ?", rp.client_id)[0]
    # deliveries: delivered long ago, given up long ago, still being tried, delivered recently
    for delivered, next_attempt, created in (
        (old, None, old),
        (None, None, old),
        (None, now, old),
        (recent, None, old),
    ):
        sql(
            storage,
            "INSERT INTO oidc_backchannel_delivery (client_id, logout_token, attempts, "
            "next_attempt_at, delivered_at, created_at) VALUES (?, 't', 1, ?, ?, ?)",
            client_pk,
            next_attempt,
            delivered,
            created,
        )
    # counters: stale, stale but locked, counting
    for key, last, locked in (
        ("ip:stale", now - WINDOW - 1, 0),
        ("ip:locked", now - WINDOW - 1, now + 60),
        ("ip:counting", now - 10, 0),
    ):
        sql(
            storage,
            'INSERT INTO oidc_login_throttle ("key", failures, last_failure_at, locked_until) '
            "VALUES (?, 3, ?, ?)",
            key,
            last,
            locked,
        )
    # values shown once, in the live session: past the grace period, recent, still live
    for name, expires in (("old", old), ("recent", recent), ("live", now + 60)):
        sql(
            storage,
            "INSERT INTO oidc_one_time_value (session_id, name, value, created_at, expires_at) "
            "VALUES (?, ?, 'sealed', ?, ?)",
            session_ids[0],
            name,
            expires - 300,
            expires,
        )
    # consents: alice's (no lifetime) stays; an expired one of another user goes
    sql(storage, "UPDATE oidc_consent SET expires_at = NULL")
    sql(
        storage,
        "INSERT INTO oidc_user (subject, email, password_hash, name, given_name, family_name, "
        "preferred_username, locale, email_verified, is_admin, created_at, updated_at) "
        "VALUES ('bob-sub', 'bob@example.com', '', '', '', '', '', '', ?, ?, 1, 1)",
        False,
        False,
    )
    (bob,) = sql(storage, "SELECT id FROM oidc_user WHERE subject = 'bob-sub'")[0]
    sql(
        storage,
        "INSERT INTO oidc_consent (user_id, client_id, scopes, granted_at, first_granted_at, "
        "expires_at) VALUES (?, ?, 'openid', ?, ?, ?)",
        bob,
        client_pk,
        old - 10,
        old - 10,
        old,
    )

    expected = {
        "oidc_pending_authorization": count(storage, "oidc_pending_authorization"),
        "oidc_browser_session": 1,
        "oidc_access_token": 1,
        "oidc_refresh_token": 1,
        "oidc_authorization_code": 1,
        "oidc_consent": 1,
        "oidc_backchannel_delivery": 2,
        "oidc_login_throttle": 1,
        "oidc_one_time_value": 1,
        "oidc_account_link": 0,
    }
    assert run(dry_run=True) == expected
    assert run(dry_run=True) == expected  # counting deletes nothing
    assert run(batch_size=1) == expected
    assert run() == dict.fromkeys(expected, 0)

    assert count(storage, "oidc_pending_authorization") == 0
    assert count(storage, "oidc_browser_session") == 2  # the live one and the recent one
    mine = """"key" IN ('ip:stale', 'ip:locked', 'ip:counting')"""
    assert sql(storage, f'SELECT "key" FROM oidc_login_throttle WHERE {mine} ORDER BY "key"') == [
        ("ip:counting",),
        ("ip:locked",),
    ]
    assert sorted(
        row[0] is None for row in sql(storage, "SELECT delivered_at FROM oidc_backchannel_delivery")
    ) == [False, True]
    assert count(storage, "oidc_consent") == 1
    assert count(storage, "oidc_authorization_code") == 1
    assert sql(storage, "SELECT name FROM oidc_one_time_value ORDER BY name") == [
        ("live",),
        ("recent",),
    ]
    # the live grant still works
    assert userinfo(oflow.app, live_grant["access_token"]) == 200
    assert refresh(oflow.app, rp, live_grant["refresh_token"]).status_int == 200
    assert_error(refresh(oflow.app, rp, old_grant["refresh_token"]), 400, "invalid_grant")
    # the signed-in session and alice's consent remain: straight back to the client with a code
    location = oflow.start().headers["Location"]
    assert location.startswith(rp.redirect_uris[0] + "?") and "code" in query_of(location)


def test_a_code_replayed_after_a_purge_still_revokes_its_tokens(
    oflow: Flow, rp: RP, storage: Storage, provider: Provider
) -> None:
    code = oflow.authorize()["code"]
    tokens = oflow.token(code).json
    # the code expired long ago, its tokens are alive: it stays
    later = int(time.time()) + provider.settings.code_ttl + 120
    counts = purge(grace=0, failure_window=WINDOW, now=later)
    assert counts["oidc_authorization_code"] == 0
    assert count(storage, "oidc_authorization_code") == 1

    assert_error(oflow.token(code), 400, "invalid_grant")
    assert userinfo(oflow.app, tokens["access_token"]) == 401
    assert_error(refresh(oflow.app, rp, tokens["refresh_token"]), 400, "invalid_grant")


def test_a_code_goes_once_every_token_of_its_grant_is_gone(
    oflow: Flow, storage: Storage, provider: Provider
) -> None:
    offline_tokens(oflow)
    settings = provider.settings
    before_absolute = int(time.time()) + settings.access_token_ttl + 60
    assert before_absolute < int(time.time()) + settings.refresh_token_absolute_ttl
    counts = purge(grace=0, failure_window=WINDOW, now=before_absolute)
    assert (counts["oidc_access_token"], counts["oidc_authorization_code"]) == (1, 0)

    after_absolute = int(time.time()) + settings.refresh_token_absolute_ttl + 60
    counts = purge(grace=0, failure_window=WINDOW, now=after_absolute)
    assert (counts["oidc_refresh_token"], counts["oidc_authorization_code"]) == (1, 1)


def test_a_refresh_token_replayed_after_a_purge_still_revokes_its_grant(
    oflow: Flow, rp: RP, storage: Storage, provider: Provider
) -> None:
    first = offline_tokens(oflow)
    second = refresh(oflow.app, rp, first["refresh_token"]).json
    # the used token's idle expiry passed; the grant's absolute expiry did not
    (idle, absolute) = sql(
        storage, "SELECT expires_at, absolute_expires_at FROM oidc_refresh_token ORDER BY id"
    )[0]
    assert idle < absolute - 10
    counts = purge(grace=0, failure_window=WINDOW, now=idle + 5)
    assert counts["oidc_refresh_token"] == 0
    assert count(storage, "oidc_refresh_token") == 2

    assert_error(refresh(oflow.app, rp, first["refresh_token"]), 400, "invalid_grant")
    assert_error(refresh(oflow.app, rp, second["refresh_token"]), 400, "invalid_grant")
    assert userinfo(oflow.app, second["access_token"]) == 401


def test_purge_refuses_a_negative_grace_and_an_empty_batch(storage: Storage) -> None:
    with pytest.raises(ValueError, match="grace"):
        run(grace=-1)
    with pytest.raises(ValueError, match="batch_size"):
        run(batch_size=0)
