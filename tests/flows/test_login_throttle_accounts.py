"""Brute-force protection of the password paths (T-25, T-26, T-27; ``docs/security.md``).

The lock engages at the threshold, also under parallel attempts; the attacker's address
is stopped first; locks end and grow; the login page and the console share counters.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import webtest

from oidc_core import Provider
from oidc_core.accounts import Account as SourceAccount
from oidc_core.accounts import DatabaseAccounts
from oidc_core.passwords import PasswordService
from oidc_core.storage import Storage
from oidc_core.throttle import account_key, address_key, pair_key
from tests.conftest import make_user
from tests.support.flow import RP, Account, hidden
from tests.support.login_throttle import (
    ATTACKER,
    PROXY,
    VICTIM,
    browser_at,
    rp_and_user,
    throttled_mount,
    throttled_settings,
)
from tests.support.mounts import Mount, MountedApp
from tests.support.throttle_logins import GENERIC_FAILURE, _creds, failures, log_in, login_page


class CountingAccounts(DatabaseAccounts):
    """The built-in account source, counting the passwords it verifies."""

    def __init__(self, storage: Storage, passwords: PasswordService) -> None:
        super().__init__(storage, passwords)
        self.verified = 0
        self._lock = threading.Lock()

    def verify_password(self, account: SourceAccount | None, password: str) -> bool:
        with self._lock:
            self.verified += 1
        return super().verify_password(account, password)


def counting_provider(storage: Storage, database_url: str, **options: Any) -> Provider:
    settings = throttled_settings("standalone", database_url, **options)
    return Provider(
        settings, storage=storage, accounts=CountingAccounts(storage, PasswordService(settings))
    )


def admin_sign_in(browser: webtest.TestApp, email: str, password: str) -> webtest.TestResponse:
    page = browser.get("/admin/login")
    return browser.post(
        "/admin/login",
        {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password},
        expect_errors=True,
    )


def account_sign_in(browser: webtest.TestApp, email: str, password: str) -> webtest.TestResponse:
    page = browser.get("/account/login")
    return browser.post(
        "/account/login",
        {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password},
        expect_errors=True,
    )


def assert_refused(response: webtest.TestResponse, max_seconds: int) -> int:
    """The generic failure, answered 429 with a Retry-After within the longest lock."""
    assert response.status_int == 429, response.status
    assert GENERIC_FAILURE in response.text
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= max_seconds
    return retry_after


def wrong_passwords_together(
    storage: Storage, browsers: list[MountedApp], pages: list[webtest.TestResponse], email: str
) -> list[int]:
    """Each browser posts a wrong password on its page, all in parallel; the statuses."""
    start = threading.Barrier(len(browsers))

    def attempt(n: int) -> int:
        try:
            start.wait(timeout=30)
            return int(log_in(browsers[n], pages[n], email, f"guess {n}").status_int)
        finally:
            storage.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return list(pool.map(attempt, range(len(browsers))))


# -- T-25: the lock engages at the threshold, also under parallel attempts -------------------


def test_sequential_wrong_passwords_lock_at_the_threshold_with_the_generic_message(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    """T-25: five wrong passwords are checked (401); from the sixth on, 429 and the same
    message, also for the right password, which is not even checked."""
    mount = throttled_mount(mount_name, storage, database_url)
    browser = browser_at(mount, ATTACKER)
    page = login_page(browser, client_a, alice)
    statuses = [log_in(browser, page, alice.email, f"wrong {n}").status_int for n in range(10)]
    assert statuses == [401] * 5 + [429] * 5
    refused = log_in(browser, page, alice.email, "wrong again")
    right = log_in(browser, page, alice.email, alice.password)
    assert_refused(refused, 30)
    assert_refused(right, 30)
    assert right.text == refused.text
    assert failures(storage, pair_key(alice.email, ATTACKER)) == 12
    assert failures(storage, account_key(alice.email)) == 5  # the pair stopped the rest


def test_parallel_wrong_passwords_are_all_counted_and_few_are_checked(
    storage: Storage, database_url: str
) -> None:
    """T-25: 50 parallel wrong passwords from one address: the stored count is 50 and at
    most threshold + concurrency passwords were verified; the right one is then refused."""
    provider = counting_provider(storage, database_url)
    mount = Mount("standalone", "", provider, provider)
    client_a, bob = rp_and_user(provider)
    browsers = [browser_at(mount, ATTACKER) for _ in range(50)]
    pages = [login_page(browser, client_a, bob) for browser in browsers]
    statuses = wrong_passwords_together(storage, browsers, pages, bob.email)
    source = provider.accounts.source
    assert isinstance(source, CountingAccounts)
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == source.verified
    assert source.verified <= 5 + provider.settings.password_hash_concurrency
    assert failures(storage, pair_key(bob.email, ATTACKER)) == 50
    assert failures(storage, address_key(ATTACKER)) == 50
    assert_refused(log_in(browsers[0], pages[0], bob.email, bob.password), 30)
    assert source.verified == statuses.count(401)


def test_parallel_wrong_passwords_from_many_addresses_lock_the_account(
    storage: Storage, database_url: str
) -> None:
    """T-25, distributed: 50 addresses, one attempt each; the account counter holds 50 and
    at most its threshold + concurrency passwords were verified."""
    provider = counting_provider(storage, database_url, login_lock_threshold=10)
    mount = Mount("standalone", "", provider, provider)
    client_a, bob = rp_and_user(provider)
    browsers = [browser_at(mount, f"192.0.2.{n + 1}") for n in range(50)]
    pages = [login_page(browser, client_a, bob) for browser in browsers]
    statuses = wrong_passwords_together(storage, browsers, pages, bob.email)
    source = provider.accounts.source
    assert isinstance(source, CountingAccounts)
    assert statuses.count(429) >= 50 - 10 - provider.settings.password_hash_concurrency
    assert source.verified == statuses.count(401)
    assert source.verified <= 10 + provider.settings.password_hash_concurrency
    assert failures(storage, account_key(bob.email)) == 50


def test_unknown_logins_are_counted_and_locked_like_existing_ones(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    """No enumeration: an unknown email gets the same answers at the same attempts."""
    mount = throttled_mount(mount_name, storage, database_url, login_pair_lock_threshold=3)
    answers = {}
    for email in (alice.email, "nobody@example.com"):
        browser = browser_at(mount, ATTACKER)
        page = login_page(browser, client_a, alice)
        answers[email] = [log_in(browser, page, email, "wrong").status_int for _ in range(5)]
    assert answers[alice.email] == answers["nobody@example.com"] == [401] * 3 + [429] * 2


def test_a_success_resets_the_account_and_pair_counters_not_the_address(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    mount = throttled_mount(mount_name, storage, database_url)
    browser = browser_at(mount, VICTIM)
    page = login_page(browser, client_a, alice)
    for _ in range(4):
        assert log_in(browser, page, alice.email, "wrong").status_int == 401
    assert log_in(browser, page, alice.email, alice.password).status_int == 303
    assert failures(storage, pair_key(alice.email, VICTIM)) == 0
    assert failures(storage, account_key(alice.email)) == 0
    assert failures(storage, address_key(VICTIM)) == 4
    page = login_page(browser, client_a, alice)
    statuses = [log_in(browser, page, alice.email, "wrong").status_int for _ in range(6)]
    assert statuses == [401] * 5 + [429]  # a fresh start after the success


# -- T-26: the attacker's address is stopped first; locks are temporary ------------------


def test_the_victim_signs_in_from_elsewhere_while_the_attacker_is_locked_out(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    """T-26: behind a trusted proxy, the attacker's forwarded address is locked out of
    alice's account before the account is; alice signs in from her own address through
    the same proxy."""
    mount = throttled_mount(mount_name, storage, database_url, trusted_proxies=(PROXY,))
    attacker = browser_at(mount, PROXY, forwarded_for=ATTACKER)
    page = login_page(attacker, client_a, alice)
    statuses = [log_in(attacker, page, alice.email, "guess").status_int for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    victim = browser_at(mount, PROXY, forwarded_for=VICTIM)
    assert log_in(victim, login_page(victim, client_a, alice), *_creds(alice)).status_int == 303
    assert failures(storage, address_key(ATTACKER)) == 8
    assert failures(storage, address_key(PROXY)) == 0  # the proxy itself is never counted
    assert_refused(log_in(attacker, page, alice.email, alice.password), 30)


def test_locks_end_and_grow_up_to_the_longest(storage: Storage, database_url: str) -> None:
    """T-26: after a lock ends the attacker's address may try again (one password is
    checked, then it is locked again for twice as long); no lock is ever longer than
    ``login_lock_max_seconds``."""
    mount = throttled_mount(
        "standalone", storage, database_url, login_lock_seconds=2, login_lock_max_seconds=4
    )
    client, user = rp_and_user(mount.provider)
    attacker = browser_at(mount, ATTACKER)
    page = login_page(attacker, client, user)
    statuses = [log_in(attacker, page, user.email, "guess").status_int for _ in range(5)]
    assert statuses == [401] * 5
    waits = []
    for _ in range(3):
        waits.append(assert_refused(log_in(attacker, page, user.email, "guess"), 4))
        time.sleep(waits[-1])  # Retry-After is exact: the lock has ended after it
        assert log_in(attacker, page, user.email, "guess").status_int == 401
    assert waits[0] <= 2 and waits[1] >= 3 and waits[2] >= 3


# -- T-27: every password path shares the counters --------------------------------------


def test_the_login_page_and_the_admin_console_share_the_counters(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, provider: Provider
) -> None:
    """T-27: failures on one path lock the others (login page, admin console, account
    pages), in every direction."""
    admin = make_user(provider, "root@example.com", "admin's long password", is_admin=True)
    mount = throttled_mount(mount_name, storage, database_url, login_pair_lock_threshold=6)
    browser = browser_at(mount, ATTACKER)
    page = login_page(browser, client_a, admin)
    assert log_in(browser, page, admin.email, "wrong").status_int == 401
    assert log_in(browser, page, admin.email, "wrong").status_int == 401
    assert admin_sign_in(browser, admin.email, "wrong").status_int == 401
    assert admin_sign_in(browser, admin.email, "wrong").status_int == 401
    assert account_sign_in(browser, admin.email, "wrong").status_int == 401
    assert account_sign_in(browser, admin.email, "wrong").status_int == 401
    assert_refused(admin_sign_in(browser, admin.email, admin.password), 30)
    assert_refused(log_in(browser, page, admin.email, admin.password), 30)
    assert_refused(account_sign_in(browser, admin.email, admin.password), 30)
    other = browser_at(mount, VICTIM)
    assert admin_sign_in(other, admin.email, "wrong").status_int == 401
    assert account_sign_in(other, admin.email, "wrong").status_int == 401
    for _ in range(4):
        log_in(other, login_page(other, client_a, admin), admin.email, "wrong")
    assert_refused(admin_sign_in(other, admin.email, admin.password), 30)
    assert_refused(account_sign_in(other, admin.email, admin.password), 30)
