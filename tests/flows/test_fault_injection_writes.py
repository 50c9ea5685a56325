"""A write failing between any two of its statements writes nothing (T-67..T-70).

Each write operation (code redemption, refresh rotation, consent, secret reset,
revocations, password change, sign-in counting) is failed at every one of its statements
in turn (:mod:`tests.support.faults`); after each failure the whole database is compared,
row by row, with its state before.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import make_user, new_app
from tests.support.account_pages import PHONE, browser, post, revoke
from tests.support.admin_api import new_token
from tests.support.admin_console import sign_in as console_sign_in
from tests.support.fault_injection import (
    changed_tables,
    is_unavailable_json,
    is_unavailable_page,
    signed_in_consent_page,
    snapshot,
)
from tests.support.fault_injection import faults as faults
from tests.support.faults import Faults
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.tokens import OFFLINE_SCOPES, offline_client, post_as, refresh

# Each write failed at every statement, checked in the database: one mount.
pytestmark = pytest.mark.mounts("one")


def fail_at_every_statement(
    storage: Storage,
    faults: Faults,
    operation: Callable[[], webtest.TestResponse],
    unavailable: Callable[[webtest.TestResponse], bool],
    bookkeeping: str = "",
    check: Callable[[], None] = lambda: None,
) -> tuple[int, webtest.TestResponse]:
    """Run ``operation`` with statement 1, 2, ... failing until it runs to its end without
    reaching the failing one.  Each failed run must answer ``unavailable`` and leave every
    table as it was (but ``bookkeeping``, a table that records the attempt itself, such as
    an admin token's last use; ``check`` then says what may have changed in it).  Returns
    how many statements the operation has and its answer once the database works."""
    before = snapshot(storage)
    for index in range(1, 200):
        with faults.failing_at(index) as fault:
            response = operation()
        if not fault.fired:
            return index - 1, response
        assert unavailable(response), (index, fault.fired, response.status, response.text[:300])
        after = snapshot(storage)
        changed = [name for name in changed_tables(before, after) if name != bookkeeping]
        assert changed == [], (index, fault.fired)
        check()
    raise AssertionError("the operation never ended")


# -- T-67..T-70: a failure between any two statements writes nothing --------------------


def test_t67_code_redemption_failing_anywhere_leaves_the_code_redeemable_once(
    storage: Storage, app: webtest.TestApp, faults: Faults, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice)
    code = flow.authorize()["code"]
    statements, response = fail_at_every_statement(
        storage, faults, lambda: flow.token(code), is_unavailable_json
    )
    assert statements >= 4
    assert response.status_int == 200, response.text
    assert flow.token(code).json["error"] == "invalid_grant"


def test_t68_refresh_rotation_failing_anywhere_keeps_the_old_token_and_no_successor(
    storage: Storage, app: webtest.TestApp, faults: Faults, alice: Account
) -> None:
    rp = offline_client(storage)
    flow = Flow(app, rp, alice, scope=OFFLINE_SCOPES)
    old = flow.token(flow.authorize()["code"]).json["refresh_token"]
    statements, response = fail_at_every_statement(
        storage, faults, lambda: refresh(app, rp, old), is_unavailable_json
    )
    assert statements >= 4
    assert response.status_int == 200 and response.json["refresh_token"] != old
    assert refresh(app, rp, response.json["refresh_token"]).status_int == 200


def test_t69_consent_failing_anywhere_stores_no_consent_or_code_and_does_not_redirect(
    provider: Provider, storage: Storage, faults: Faults, client_a: RP, alice: Account
) -> None:
    page = signed_in_consent_page(new_app(provider), client_a, alice)
    flow = Flow(page.test_app, client_a, alice)
    statements, response = fail_at_every_statement(
        storage, faults, lambda: flow.consent(page), is_unavailable_page
    )
    assert statements >= 3
    assert response.status_int in (302, 303)
    assert response.headers["Location"].startswith(client_a.redirect_uris[0])


def test_t70_secret_reset_failing_anywhere_keeps_the_old_secret_alone(
    provider: Provider, storage: Storage, app: webtest.TestApp, faults: Faults, client_a: RP
) -> None:
    admin = {"Authorization": "Bearer " + new_token(provider)[1]}
    path = f"/admin/api/clients/{client_a.client_id}"

    def reset() -> webtest.TestResponse:
        return app.patch_json(path, {"reset_secret": True}, headers=admin, expect_errors=True)

    statements, response = fail_at_every_statement(
        storage, faults, reset, is_unavailable_json, bookkeeping="oidc_admin_token"
    )
    assert statements >= 3
    assert response.status_int == 200
    new_secret = response.json["client_secret"]
    introspect = {"token": "x"}
    assert post_as(app, "/introspect", client_a, introspect).status_int == 401
    renewed = RP(client_a.client_id, new_secret, client_a.redirect_uris)
    assert post_as(app, "/introspect", renewed, introspect).status_int == 200


def test_t70_console_secret_reset_failing_anywhere_keeps_the_old_secret_alone(
    provider: Provider, storage: Storage, app: webtest.TestApp, faults: Faults, client_a: RP
) -> None:
    make_user(provider, "root@example.com", "an administrator password", is_admin=True)
    console = new_app(provider)
    assert (
        console_sign_in(console, "root@example.com", "an administrator password").status_int == 303
    )
    path = f"/admin/clients/{client_a.client_id}/reset-secret"
    form = {"csrf_token": hidden(console.get(path), "csrf_token"), "grace_seconds": "0"}
    statements, response = fail_at_every_statement(
        storage, faults, lambda: console.post(path, form, expect_errors=True), is_unavailable_page
    )
    assert statements >= 3
    assert response.status_int == 303
    page = console.get(response.headers["Location"])
    shown = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    assert page.status_int == 200 and shown
    renewed = RP(client_a.client_id, shown.group(1), client_a.redirect_uris)
    assert post_as(app, "/introspect", renewed, {"token": "x"}).status_int == 200
    assert post_as(app, "/introspect", client_a, {"token": "x"}).status_int == 401


def test_t70_token_revocation_failing_anywhere_never_reports_success(
    storage: Storage, app: webtest.TestApp, faults: Faults, alice: Account
) -> None:
    rp = offline_client(storage)
    flow = Flow(app, rp, alice, scope=OFFLINE_SCOPES)
    tokens = flow.token(flow.authorize()["code"]).json
    body = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    statements, response = fail_at_every_statement(
        storage, faults, lambda: post_as(app, "/revoke", rp, body), is_unavailable_json
    )
    assert statements >= 2
    assert response.status_int == 200
    assert refresh(app, rp, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_t70_account_revoke_failing_anywhere_leaves_the_grant_intact(
    provider: Provider, storage: Storage, faults: Faults, alice: Account
) -> None:
    rp = offline_client(storage)
    account = browser(provider, alice)
    flow = Flow(account, rp, alice, scope=OFFLINE_SCOPES)
    tokens = flow.token(flow.authorize()["code"]).json
    token = hidden(account.get("/account/"), "csrf_token")
    statements, response = fail_at_every_statement(
        storage,
        faults,
        lambda: revoke(account, rp.client_id, token=token),
        is_unavailable_page,
    )
    assert statements >= 3
    assert response.status_int == 303, response.text[:300]
    assert refresh(account, rp, tokens["refresh_token"]).json["error"] == "invalid_grant"


def test_password_change_failing_anywhere_keeps_the_old_password_tokens_and_sessions(
    provider: Provider, storage: Storage, faults: Faults, alice: Account
) -> None:
    rp = offline_client(storage)
    account = browser(provider, alice)
    flow = Flow(account, rp, alice, scope=OFFLINE_SCOPES)
    tokens = flow.token(flow.authorize()["code"]).json
    phone = browser(provider, alice, PHONE)
    fields = {
        "current_password": alice.password,
        "new_password": "a brand new password",
        "new_password_again": "a brand new password",
    }
    token = hidden(account.get("/account/profile"), "csrf_token")
    statements, response = fail_at_every_statement(
        storage,
        faults,
        lambda: post(account, "/account/password", fields, token=token),
        is_unavailable_page,
        bookkeeping="oidc_login_throttle",  # the check of the current password is counted
        # an attempt cut short stays counted: clear the counters before the account locks
        check=lambda: storage.throttle.clear(prefixes=[""]) and None,
    )
    assert statements >= 5  # new hash, revoked tokens, the other session, this one's new key
    assert response.status_int == 303, response.text[:300]
    assert refresh(account, rp, tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert phone.get("/account/").status_int == 303  # signed out


def throttle_counters(storage: Storage) -> list[int]:
    rows = storage.database.execute_sql("SELECT failures FROM oidc_login_throttle").fetchall()
    return [int(row[0]) for row in rows]


def counted_on_every_key_or_none(storage: Storage) -> None:
    counters = throttle_counters(storage)
    assert counters == [] or (len(counters) == 3 and len(set(counters)) == 1), counters


def test_sign_in_throttle_counting_failing_anywhere_counts_on_all_keys_or_none(
    provider: Provider, storage: Storage, faults: Faults, alice: Account
) -> None:
    """The attempt is counted before the password is checked (``oidc_core.throttle``): a
    failure after that count committed leaves it counted (failing closed), on the address,
    the pair and the account alike; a failure inside it counts nothing."""
    app = new_app(provider)
    form = {
        "csrf_token": hidden(app.get("/account/login"), "csrf_token"),
        "email": alice.email,
        "password": "a wrong password",
    }
    statements, response = fail_at_every_statement(
        storage,
        faults,
        lambda: app.post("/account/login", form, expect_errors=True),
        is_unavailable_page,
        bookkeeping="oidc_login_throttle",
        check=lambda: counted_on_every_key_or_none(storage),
    )
    assert statements >= 3
    assert response.status_int in (401, 429)
    counted_on_every_key_or_none(storage)
    assert throttle_counters(storage)[0] >= 1
