"""Remembered consent lapses after ``consent_ttl`` seconds (0: it never does).

A lapsed consent counts as none: the consent page is shown again and ``prompt=none`` gets
``consent_required``.  ``first_granted_at`` is the first grant's time and stays;
``expires_at`` moves with every grant.  Two grants at once with different scopes both end
up in the one consent row.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import webtest

from oidc_core.storage import Storage
from tests.conftest import FAST_PASSWORDS, make_client
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.mounts import Mount, MountedApp, build, settings_for

CB = "https://rp.example/cb"
HOUR = 3600


def mounted(mount_name: str, database_url: str, storage: Storage, consent_ttl: int) -> Mount:
    settings = settings_for(mount_name, database_url, consent_ttl=consent_ttl, **FAST_PASSWORDS)
    return build(mount_name, settings, storage)


@pytest.fixture
def hour_mount(mount_name: str, database_url: str, storage: Storage) -> Mount:
    return mounted(mount_name, database_url, storage, HOUR)


def consent_row(storage: Storage) -> dict[str, Any]:
    cursor = storage.database.execute_sql(
        "SELECT scopes, granted_at, first_granted_at, expires_at FROM oidc_consent"
    )
    rows = cursor.fetchall()
    assert len(rows) == 1, rows
    scopes, granted_at, first_granted_at, expires_at = rows[0]
    return {
        "scopes": set(scopes.split()),
        "granted_at": granted_at,
        "first_granted_at": first_granted_at,
        "expires_at": expires_at,
    }


def move_consent(storage: Storage, seconds: int) -> None:
    """Shift the consent's times ``seconds`` into the past (as if granted earlier)."""
    storage.database.execute_sql(
        "UPDATE oidc_consent SET granted_at = granted_at - {0}, "
        "first_granted_at = first_granted_at - {0}, expires_at = expires_at - {0}".format(
            int(seconds)
        )
    )


def steps(flow: Flow, **overrides: Any) -> list[str]:
    """The pages the browser passes through on the way back to the client."""
    response = flow.start(**overrides)
    seen = []
    for _ in range(4):
        assert response.status_int in (302, 303), (response.status, response.text[:300])
        location = response.headers["Location"]
        if not location.startswith(flow.issuer + "/"):
            assert "code=" in location, location
            return seen
        page = flow.app.get(location)
        if "/login?" in location:
            seen.append("login")
            response = flow.login(page)
        else:
            seen.append("consent")
            response = flow.consent(page)
    raise AssertionError("too many redirects")


def test_a_consent_is_remembered_for_consent_ttl(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    flow = Flow(hour_mount.browser(), client_a, alice)
    before = int(time.time())
    assert steps(flow) == ["login", "consent"]
    row = consent_row(storage)
    assert before <= row["first_granted_at"] == row["granted_at"] <= int(time.time())
    assert row["expires_at"] == row["granted_at"] + HOUR
    assert steps(flow) == []  # remembered: straight back with a code


def test_a_lapsed_consent_asks_again(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    flow = Flow(hour_mount.browser(), client_a, alice)
    assert steps(flow) == ["login", "consent"]
    move_consent(storage, HOUR + 1)
    assert steps(flow) == ["consent"]


def test_a_lapsed_consent_is_consent_required_with_prompt_none(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    flow = Flow(hour_mount.browser(), client_a, alice)
    flow.authorize()
    move_consent(storage, HOUR + 1)
    callback = flow.authorize(prompt="none", state="s1")
    assert (callback["error"], callback["state"]) == ("consent_required", "s1")
    assert "code" not in callback


def test_a_lapsed_consent_asks_again_after_login(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    """The login page's own check (a code straight after login) sees the lapse too."""
    Flow(hour_mount.browser(), client_a, alice).authorize()
    move_consent(storage, HOUR + 1)
    assert steps(Flow(hour_mount.browser(), client_a, alice)) == ["login", "consent"]


def test_consent_lapses_with_a_short_ttl_in_real_time(
    mount_name: str, database_url: str, storage: Storage, client_a: RP, alice: Account
) -> None:
    flow = Flow(mounted(mount_name, database_url, storage, 1).browser(), client_a, alice)
    assert steps(flow) == ["login", "consent"]
    time.sleep(2.1)
    assert steps(flow) == ["consent"]


def test_granting_again_keeps_the_first_grant_and_moves_the_expiry(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    flow = Flow(hour_mount.browser(), client_a, alice)
    flow.authorize()
    move_consent(storage, HOUR + 100)
    lapsed = consent_row(storage)
    assert steps(flow) == ["consent"]
    row = consent_row(storage)
    assert row["first_granted_at"] == lapsed["first_granted_at"]
    assert row["granted_at"] >= lapsed["granted_at"] + HOUR + 100
    assert row["expires_at"] == row["granted_at"] + HOUR


def test_using_a_consent_does_not_extend_it(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    """Only a grant on the consent page moves the expiry; codes issued silently do not."""
    flow = Flow(hour_mount.browser(), client_a, alice)
    flow.authorize()
    move_consent(storage, 600)
    row = consent_row(storage)
    assert steps(flow) == []
    assert consent_row(storage) == row


def test_new_scopes_ask_again_and_a_lapsed_consent_loses_its_scopes(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    flow = Flow(hour_mount.browser(), client_a, alice)
    assert steps(flow, scope="openid email") == ["login", "consent"]
    assert steps(flow, scope="openid email profile") == ["consent"]
    assert consent_row(storage)["scopes"] == {"openid", "email", "profile"}
    move_consent(storage, HOUR + 1)
    assert steps(flow, scope="openid") == ["consent"]
    assert consent_row(storage)["scopes"] == {"openid"}  # the lapsed grant is not carried on


def test_consent_ttl_zero_never_lapses(
    mount_name: str, database_url: str, storage: Storage, client_a: RP, alice: Account
) -> None:
    flow = Flow(mounted(mount_name, database_url, storage, 0).browser(), client_a, alice)
    assert steps(flow) == ["login", "consent"]
    assert consent_row(storage)["expires_at"] is None
    move_consent(storage, 10 * 365 * 24 * HOUR)
    assert steps(flow) == []


def test_skip_consent_clients_never_ask_even_without_a_consent(
    hour_mount: Mount, storage: Storage, alice: Account
) -> None:
    first_party = make_client(storage, "Our own app", [CB], skip_consent=True)
    flow = Flow(hour_mount.browser(), first_party, alice)
    assert steps(flow) == ["login"]
    assert storage.database.execute_sql("SELECT COUNT(*) FROM oidc_consent").fetchone()[0] == 0


def _consent_page(app: MountedApp, client: RP, alice: Account, scope: str) -> tuple[Flow, Any]:
    flow = Flow(app, client, alice, scope=scope)
    response = flow.start()
    location = response.headers["Location"]
    if "/login?" in location:
        response = flow.login(app.get(location))
        location = response.headers["Location"]
    assert "/consent?" in location, location
    return flow, app.get(location)


@pytest.mark.parametrize("attempt", range(3))
def test_two_grants_at_once_with_different_scopes_keep_both(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage, attempt: int
) -> None:
    """Alice already consented to ``openid``; in two browsers she allows ``openid email``
    and ``openid profile`` at the same moment: the consent holds all three (neither
    grant overwrites the other's scopes)."""
    Flow(hour_mount.browser(), client_a, alice, scope="openid").authorize()
    pages = [
        _consent_page(hour_mount.browser(), client_a, alice, "openid email"),
        _consent_page(hour_mount.browser(), client_a, alice, "openid profile"),
    ]
    barrier = threading.Barrier(len(pages))
    results: list[webtest.TestResponse] = []

    def allow(flow: Flow, page: webtest.TestResponse) -> None:
        barrier.wait()
        try:
            results.append(flow.consent(page))
        finally:
            storage.close()  # this thread's connection

    threads = [threading.Thread(target=allow, args=pair) for pair in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_int for r in results) == [303, 303], [r.text[:200] for r in results]
    assert all("code=" in r.headers["Location"] for r in results)
    assert consent_row(storage)["scopes"] == {"openid", "email", "profile"}


def test_the_consent_form_carries_its_csrf_token(
    hour_mount: Mount, client_a: RP, alice: Account, storage: Storage
) -> None:
    """The grant is a POST with the page's CSRF token; without it nothing is remembered."""
    flow, page = _consent_page(hour_mount.browser(), client_a, alice, "openid")
    response = flow.app.post(
        "/consent",
        {"interaction": hidden(page, "interaction"), "decision": "allow"},
        expect_errors=True,
    )
    assert response.status_int == 403
    count = storage.database.execute_sql("SELECT COUNT(*) FROM oidc_consent")
    assert count.fetchone()[0] == 0
