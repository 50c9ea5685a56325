"""Races on one code, one refresh token, one consent form and one client secret
(SECURITY-CHECKLIST T-58, T-59, T-61, T-63; R-AC-1).

Each simultaneous request runs in its own thread with its own WebTest browser and its own
database connection, released together by a barrier (``tests/support/race.py``).  Each race
is repeated ``OIDC_TEST_RACE_REPEAT`` times (200 by default) within one test, on SQLite and,
with ``OIDC_TEST_DATABASE_URL``, on PostgreSQL.  The races are in the core, not in a
framework adapter: outside ``tests/flows/`` they run under one mount (standalone).
The outcomes of the repetitions are printed (``pytest -s``).
"""

from __future__ import annotations

import base64
import os
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.credentials import digest
from oidc_core.storage import Storage
from tests.conftest import make_user, new_app
from tests.support.account_pages import sign_in
from tests.support.admin_api import CLIENTS, Api, new_token, response_json
from tests.support.flow import RP, Account, Flow, hidden, query_of
from tests.support.race import Racer, racing
from tests.support.tokens import offline_client, offline_flow, offline_tokens, refresh

REPEAT = int(os.environ.get("OIDC_TEST_RACE_REPEAT", "200"))


def count(provider: Provider, sql: str, *params: Any) -> int:
    return int(provider.storage.database.execute_sql(sql, params).fetchone()[0])


def tokens(provider: Provider) -> tuple[int, int]:
    """(access tokens, live access tokens)."""
    return (
        count(provider, "SELECT COUNT(*) FROM oidc_access_token"),
        count(provider, "SELECT COUNT(*) FROM oidc_access_token WHERE revoked_at IS NULL"),
    )


def report(name: str, outcomes: Counter[str]) -> None:
    print(f"\n{name}: {REPEAT} repetitions: {dict(sorted(outcomes.items()))}")


@pytest.fixture
def racer(provider: Provider) -> Iterator[Racer]:
    with racing(provider, 20) as racer:
        yield racer


# -- T-59: one code, 2 and 20 redemptions at once -------------------------------------------


def redeem(provider: Provider, flow: Flow, code: str) -> tuple[int, dict[str, Any]]:
    response = Flow(new_app(provider), flow.client, flow.user, verifier=flow.verifier).token(code)
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_int, response.json


@pytest.mark.parametrize("threads", [2, 20])
def test_t59_one_code_redeemed_concurrently_succeeds_exactly_once(
    flow: Flow, provider: Provider, racer: Racer, threads: int
) -> None:
    outcomes: Counter[str] = Counter()
    for _ in range(REPEAT):
        code = flow.code_with_pkce()
        issued, live_before = tokens(provider)
        results = racer.same(partial(redeem, provider, flow, code), threads)

        statuses = sorted(status for status, _ in results)
        assert statuses == [200] + [400] * (threads - 1), statuses
        assert all(body["error"] == "invalid_grant" for status, body in results if status != 200)
        token = next(body["access_token"] for status, body in results if status == 200)
        after, live_after = tokens(provider)
        assert after == issued + 1  # one token set for the code, nothing lost
        live = live_after - live_before
        assert live in (0, 1)  # 0: a loser saw the code used and reuse detection revoked it
        response = flow.app.get(
            "/userinfo", headers={"Authorization": "Bearer " + token}, expect_errors=True
        )
        assert response.status_int == (200 if live else 401)
        outcomes["token live" if live else "token revoked by reuse detection"] += 1
    report(f"T-59, {threads} redemptions", outcomes)


def test_t59_distinct_codes_redeemed_concurrently_all_succeed(
    flow: Flow, provider: Provider, racer: Racer
) -> None:
    codes = [flow.authorize()["code"] for _ in range(20)]
    lock = threading.Lock()

    def redeem() -> int:
        with lock:
            code = codes.pop()
        return int(Flow(new_app(provider), flow.client, flow.user).token(code).status_int)

    assert racer.same(redeem) == [200] * 20
    assert tokens(provider) == (20, 20)


# -- T-58: one refresh token, 10 refreshes at once ------------------------------------------


def live_in_grant(provider: Provider, refresh_token: str) -> int:
    """Unused, unrevoked refresh tokens in the grant of ``refresh_token``."""
    p = provider.storage.database.param
    return count(
        provider,
        "SELECT COUNT(*) FROM oidc_refresh_token WHERE used_at IS NULL AND revoked_at IS NULL "
        f"AND grant_id = (SELECT grant_id FROM oidc_refresh_token WHERE token_digest = {p})",
        digest(refresh_token),
    )


def use(provider: Provider, rp: RP, refresh_token: str) -> tuple[int, dict[str, Any]]:
    response = refresh(new_app(provider), rp, refresh_token)
    return response.status_int, response.json


def test_t58_one_refresh_token_used_concurrently_never_has_two_live_successors(
    app: webtest.TestApp, storage: Storage, alice: Account, provider: Provider, racer: Racer
) -> None:
    rp = offline_client(storage)
    oflow = offline_flow(app, rp, alice)
    outcomes: Counter[str] = Counter()
    for _ in range(REPEAT):
        parent = offline_tokens(oflow)["refresh_token"]
        results = racer.same(partial(use, provider, rp, parent), 10)

        statuses = sorted(status for status, _ in results)
        assert statuses == [200] + [400] * 9, statuses
        assert all(body["error"] == "invalid_grant" for status, body in results if status != 200)
        live = live_in_grant(provider, parent)
        assert live <= 1  # never two live successors
        successor = next(body["refresh_token"] for status, body in results if status == 200)
        # 0 when a loser saw the token used and reuse detection revoked the grant
        assert refresh(app, rp, successor).status_int == (200 if live else 400)
        outcomes["successor live" if live else "grant revoked by reuse detection"] += 1
    report("T-58, 10 refreshes", outcomes)


# -- T-61: one consent form submitted 2 and 5 times at once ---------------------------------


COOKIE = "oidc_session"


def code_rows(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_authorization_code")


def click(provider: Provider, form: dict[str, str], cookie: dict[str, str]) -> webtest.TestResponse:
    return new_app(provider).post("/consent", form, headers=cookie, expect_errors=True)


@pytest.mark.parametrize("clicks", [2, 5])
def test_t61_parallel_consent_submissions_give_one_code(
    flow: Flow, provider: Provider, racer: Racer, clicks: int
) -> None:
    flow.authorize()  # signed in; each round asks for consent again
    cookie = {"Cookie": f"{COOKIE}={flow.app.cookies[COOKIE]}"}
    for _ in range(REPEAT):
        start = flow.start(prompt="consent")
        assert start.status_int == 303 and "/consent?" in start.headers["Location"], start.status
        page = flow.app.get(start.headers["Location"])
        form = {
            "interaction": hidden(page, "interaction"),
            "csrf_token": hidden(page, "csrf_token"),
            "decision": "allow",
        }
        codes_before = code_rows(provider)
        results = racer.same(partial(click, provider, form, cookie), clicks)

        statuses = sorted(r.status_int for r in results)
        assert statuses == [303] + [400] * (clicks - 1), statuses
        winner = next(r for r in results if r.status_int == 303)
        assert "code" in query_of(winner.headers["Location"])
        assert all("Traceback" not in r.text for r in results)
        assert code_rows(provider) == codes_before + 1
    print(f"\nT-61, {clicks} clicks: {REPEAT} repetitions, each one code")


# -- T-63: one client secret reset 2 and 5 times at once ------------------------------------


def authenticates(provider: Provider, client_id: str, secret: str) -> bool:
    """Whether the token endpoint accepts ``secret`` (introspection needs client auth)."""
    creds = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = new_app(provider).post(
        "/introspect",
        {"token": "not-a-token"},
        headers={"Authorization": "Basic " + creds},
        expect_errors=True,
    )
    assert response.status_int in (200, 401), response.text
    return response.status_int == 200


def stored_secrets(provider: Provider, client_id: str) -> tuple[str, str | None]:
    """(secret digest, previous secret digest) of the client, read in SQL."""
    p = provider.storage.database.param
    sql = f"SELECT secret_digest, previous_secret_digest FROM oidc_client WHERE client_id = {p}"
    row = provider.storage.database.execute_sql(sql, (client_id,)).fetchone()
    return row[0], row[1]


@pytest.mark.parametrize("resets", [2, 5])
def test_t63_parallel_secret_resets_leave_exactly_one_shown_secret_valid(
    app: webtest.TestApp, provider: Provider, racer: Racer, resets: int
) -> None:
    token = new_token(provider)[1]
    created = Api(app, token).create()
    client_id, old = created["client_id"], created["client_secret"]
    path = f"{CLIENTS}/{client_id}"
    for _ in range(REPEAT):

        def reset() -> str:
            response = Api(new_app(provider), token).call(
                "PATCH", path, {"reset_secret": True}, status=200
            )
            secret: str = response_json(response)["client_secret"]
            return secret

        shown = racer.same(reset, resets)

        assert len(set(shown)) == resets
        current, previous = stored_secrets(provider, client_id)
        assert previous is None  # no grace period: nothing but the current secret works
        valid = [secret for secret in shown if digest(secret) == current]
        assert len(valid) == 1, f"{len(valid)} of {resets} shown secrets are stored"
        assert authenticates(provider, client_id, valid[0])
        assert digest(old) != current
        old = valid[0]
    # Failed client authentications are throttled: try the losers of the last round only.
    assert not any(authenticates(provider, client_id, s) for s in shown if s != old)
    print(f"\nT-63, {resets} resets: {REPEAT} repetitions, each one valid secret")


# -- the sign-in counters: many accounts, one address, at once -------------------------------

SIGN_IN_ROUNDS = max(REPEAT // 10, 5)


def test_simultaneous_sign_ins_of_many_accounts_from_one_address_all_succeed(
    provider: Provider, racer: Racer
) -> None:
    """Every sign-in counts an attempt on the address's counter and on new counters of its
    account (then takes them back): concurrent upserts that InnoDB may resolve by failing one
    transaction as a deadlock victim.  None may reach the user as a 503, and the address's
    counter ends where it started."""
    accounts = [
        make_user(provider, f"crowd{n}@example.com", "a long crowd password")
        for n in range(racer.count)
    ]

    def sign_in_as(account: Account) -> int:
        app = new_app(provider)
        app.extra_environ["REMOTE_ADDR"] = "198.51.100.7"
        return sign_in(app, account.email, account.password).status_int

    for _ in range(SIGN_IN_ROUNDS):
        statuses = racer.run([partial(sign_in_as, account) for account in accounts])
        assert statuses == [303] * len(accounts), Counter(statuses)
    counters = provider.storage.throttle.counters(["ip:198.51.100.7"])
    assert counters.get("ip:198.51.100.7", (0, 0))[0] == 0, counters
    print(f"\n{SIGN_IN_ROUNDS} rounds of {len(accounts)} simultaneous sign-ins, all 303")
