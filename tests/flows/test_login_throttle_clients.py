"""Brute-force protection of client secrets at the token, revocation and introspection
endpoints: a 429 for that client from that address only, and the lock ends.
"""

from __future__ import annotations

import base64
import time

import webtest

from oidc_core.storage import Storage
from oidc_core.throttle import address_key
from tests.support.flow import RP
from tests.support.login_throttle import ATTACKER, VICTIM, browser_at, rp_and_user, throttled_mount
from tests.support.throttle_logins import failures


def basic(client_id: str, secret: str) -> dict[str, str]:
    creds = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": "Basic " + creds}


# -- clients: the token, revocation and introspection endpoints --------------------------


def test_wrong_client_secrets_get_429_for_that_client_from_that_address_only(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, client_b: RP
) -> None:
    mount = throttled_mount(mount_name, storage, database_url, login_pair_lock_threshold=3)
    attacker = browser_at(mount, ATTACKER)
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a/cb"}

    def token(browser: webtest.TestApp, client: RP, secret: str) -> webtest.TestResponse:
        return browser.post(
            "/token", form, headers=basic(client.client_id, secret), expect_errors=True
        )

    assert [token(attacker, client_a, "wrong").status_int for _ in range(3)] == [401] * 3
    for locked in (
        token(attacker, client_a, "wrong"),
        token(attacker, client_a, client_a.client_secret),
        attacker.post(
            "/revoke", {"token": "x"}, headers=basic(client_a.client_id, "w"), expect_errors=True
        ),
        attacker.post(
            "/introspect",
            {"token": "x", "client_id": client_a.client_id, "client_secret": "w"},
            expect_errors=True,
        ),
    ):
        assert locked.status_int == 429
        assert locked.json == {
            "error": "invalid_client",
            "error_description": "too many failed attempts; try again later",
        }
        assert 1 <= int(locked.headers["Retry-After"]) <= 30
        assert locked.headers["Cache-Control"] == "no-store"
        assert "WWW-Authenticate" not in locked.headers
    assert failures(storage, address_key(ATTACKER)) == 7  # refused ones count too
    # another client from that address, and that client from another address: checked
    assert token(attacker, client_b, client_b.client_secret).json["error"] == "invalid_grant"
    elsewhere = browser_at(mount, VICTIM)
    assert token(elsewhere, client_a, client_a.client_secret).json["error"] == "invalid_grant"


def test_a_client_lock_ends_and_a_success_resets_the_count(
    storage: Storage, database_url: str
) -> None:
    mount = throttled_mount(
        "standalone",
        storage,
        database_url,
        login_pair_lock_threshold=2,
        login_lock_seconds=2,
        login_lock_max_seconds=2,
    )
    client_a, _ = rp_and_user(mount.provider)
    browser = browser_at(mount, ATTACKER)
    form = {"token": "x"}

    def revoke(secret: str) -> webtest.TestResponse:
        headers = basic(client_a.client_id, secret)
        return browser.post("/revoke", form, headers=headers, expect_errors=True)

    assert [revoke("wrong").status_int for _ in range(2)] == [401, 401]
    locked = revoke(client_a.client_secret)
    assert locked.status_int == 429
    time.sleep(int(locked.headers["Retry-After"]))
    assert revoke(client_a.client_secret).status_int == 200
    assert [revoke("wrong").status_int for _ in range(3)] == [401, 401, 429]
