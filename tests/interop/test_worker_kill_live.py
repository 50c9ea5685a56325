"""A worker killed in the middle of a code redemption leaves the database consistent (T-73).

``oidc-core serve`` on a real database.  The test's own connection holds a lock the
redemption needs, so a worker blocks inside it: on PostgreSQL in the statement that marks
the code used and writes its tokens (``LOCK TABLE oidc_access_token``), on SQLite at the
write transaction's start (the test holds ``BEGIN IMMEDIATE``).  The workers are then
SIGKILLed.  The client sees a connection error; the database has rolled the redemption
back: the code is unused and redeemable exactly once, no token exists without its code
marked used, and PostgreSQL has no session left idle in a transaction.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from oidc_core.storage.db import open_database
from oidc_core.testing import pkce_pair
from tests.support.live import HTTP_TIMEOUT, LiveProvider, provider_at, through_provider

pytestmark = pytest.mark.server

CALLBACK = "https://rp.example/cb"
# A new user each run: on PostgreSQL the server shares the suite's database.
EMAIL = f"kill-{secrets.token_hex(6)}@example.com"
PASSWORD = "a password for the worker kill test"
WAIT_SECONDS = 20
SESSIONS = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
# The redemption is one statement on PostgreSQL (storage/hotpath.py): the one that inserts
# into oidc_access_token (its name quoted or not), waiting for the table lock.
BLOCKED_INSERTS = (
    SESSIONS + "wait_event_type = 'Lock' AND query ~ 'INSERT INTO \"{0,1}oidc_access_token\"{0,1} '"
)
IN_TRANSACTION = (
    SESSIONS + "(starts_with(state, 'idle in transaction') OR wait_event_type = 'Lock')"
)
OF_CLIENT = "client_id = (SELECT id FROM oidc_client WHERE client_id = ?)"


@pytest.fixture
def live(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[LiveProvider]:
    # The worker must still be waiting for the lock when it is killed.
    settings = {"OIDC_DATABASE_STATEMENT_TIMEOUT_MS": "25000"}
    with provider_at(tmp_path, request, settings=settings) as provider:
        yield provider


def code_for(live: LiveProvider, client_id: str) -> tuple[str, str]:
    """An authorization code from the browser part of the flow, and its PKCE verifier."""
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    browser = requests.Session()
    start = browser.get(
        f"{live.issuer}/authorize?{query}", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    callback = through_provider(browser, live.issuer, start, EMAIL, PASSWORD)
    return parse_qs(urlsplit(callback).query)["code"][0], verifier


def redeem(live: LiveProvider, client: tuple[str, str], code: str, verifier: str) -> Any:
    return requests.post(
        live.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=client,
        timeout=WAIT_SECONDS + 10,
    )


def value(db: Any, sql: str, *params: Any) -> Any:
    """The first column of the first row; ``?`` stands for a parameter."""
    return db.execute_sql(sql.replace("?", db.param), params).fetchone()[0]


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_t73_a_worker_killed_inside_a_redemption_leaves_the_code_redeemable_once(
    live: LiveProvider,
) -> None:
    live.create_user(EMAIL, PASSWORD, "Kill Test")
    client = live.create_client("Kill test RP", CALLBACK)
    code, verifier = code_for(live, client[0])
    url = live.env["OIDC_DATABASE_URL"]
    postgresql = url.startswith("postgresql")
    holder = open_database(url)
    if postgresql:
        holder.execute_sql("BEGIN")
        holder.execute_sql("LOCK TABLE oidc_access_token IN EXCLUSIVE MODE")
    else:
        holder.execute_sql("BEGIN IMMEDIATE")

    outcome: list[Any] = []

    def blocked_request() -> None:
        try:
            outcome.append(redeem(live, client, code, verifier))
        except requests.RequestException as error:
            outcome.append(error)

    thread = threading.Thread(target=blocked_request)
    thread.start()
    if postgresql:  # the redemption waits for the lock on oidc_access_token
        observer = open_database(url)
        wait_until(
            lambda: value(observer, BLOCKED_INSERTS) == 1,
            "the worker never blocked inside the redemption",
        )
    else:
        time.sleep(1)  # the worker waits at BEGIN IMMEDIATE (its busy timeout is 25 s)
    workers = live.worker_pids()
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    thread.join(WAIT_SECONDS + 15)
    assert len(outcome) == 1 and isinstance(outcome[0], requests.ConnectionError), outcome

    holder.execute_sql("ROLLBACK")
    holder.close()
    db = open_database(url)
    if postgresql:  # the killed worker's session ends once it has the lock and finds no client
        wait_until(
            lambda: value(db, IN_TRANSACTION) == 0,
            "a session of the killed worker was left in a transaction",
        )
        observer.close()
    unused = "oidc_authorization_code WHERE used_at IS NULL AND"
    assert value(db, f"SELECT COUNT(*) FROM {unused} {OF_CLIENT}", client[0]) == 1
    for table in ("oidc_access_token", "oidc_refresh_token"):
        assert value(db, f"SELECT COUNT(*) FROM {table} WHERE {OF_CLIENT}", client[0]) == 0

    # gunicorn has started new workers: the code is redeemable, exactly once
    wait_until(lambda: len(live.worker_pids()) == 2, "gunicorn started no new workers")
    first = redeem(live, client, code, verifier)
    assert first.status_code == 200, first.text
    again = redeem(live, client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    orphans = value(
        db,
        "SELECT COUNT(*) FROM oidc_access_token t JOIN oidc_authorization_code c "
        "ON t.code_id = c.id WHERE c.used_at IS NULL",
    )
    assert orphans == 0
    db.close()
