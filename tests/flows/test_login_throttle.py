"""Brute-force protection (SECURITY-CHECKLIST T-25, T-26, T-27; ``docs/security.md``).

Each test builds its own provider with small thresholds and short locks on the suite's
database; its browsers come from given addresses (``REMOTE_ADDR``, or ``X-Forwarded-For``
through a trusted proxy).  Password checks are counted by a real account source, the
built-in one with a counter, not a mock.  The tests that use the ``alice``, ``bob`` and
``client_a`` fixtures run under every mount; the parallel and the sleeping ones (they wait
for locks of one or two seconds to end) run once, on a provider of their own.
"""

from __future__ import annotations

import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import webtest

from oidc_core import Provider
from oidc_core.accounts import Account as SourceAccount
from oidc_core.accounts import DatabaseAccounts
from oidc_core.passwords import PasswordService
from oidc_core.settings import Settings
from oidc_core.storage import Storage
from oidc_core.throttle import account_key, address_key, pair_key
from tests.conftest import FAST_PASSWORDS, make_client, make_user
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.mounts import Mount, MountedApp, build, settings_for

GENERIC_FAILURE = "The email address or password is not correct."
ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.10"
PROXY = "10.0.0.1"


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


def throttled_settings(mount_name: str, database_url: str, **options: Any) -> Settings:
    defaults: dict[str, Any] = {
        "login_lock_threshold": 20,
        "login_pair_lock_threshold": 5,
        "login_ip_lock_threshold": 1000,
        "login_lock_seconds": 30,
        "login_lock_max_seconds": 900,
    }
    return settings_for(mount_name, database_url, **{**FAST_PASSWORDS, **defaults, **options})


def throttled_mount(mount_name: str, storage: Storage, database_url: str, **options: Any) -> Mount:
    return build(mount_name, throttled_settings(mount_name, database_url, **options), storage)


def counting_provider(storage: Storage, database_url: str, **options: Any) -> Provider:
    settings = throttled_settings("standalone", database_url, **options)
    return Provider(
        settings, storage=storage, accounts=CountingAccounts(storage, PasswordService(settings))
    )


def browser_at(mount: Mount, address: str, forwarded_for: str = "") -> MountedApp:
    """A browser whose requests come from ``address`` (through ``PROXY`` if forwarded)."""
    browser = mount.browser()
    if forwarded_for:
        browser.extra_environ.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    else:
        browser.extra_environ["REMOTE_ADDR"] = address
    return browser


def login_page(browser: webtest.TestApp, client: RP, user: Account) -> webtest.TestResponse:
    response = Flow(browser, client, user).start()
    assert response.status_int == 303, response.status
    return browser.get(response.headers["Location"])


def log_in(
    browser: webtest.TestApp, page: webtest.TestResponse, email: str, password: str
) -> webtest.TestResponse:
    return browser.post(
        "/login",
        {
            "interaction": hidden(page, "interaction"),
            "csrf_token": hidden(page, "csrf_token"),
            "email": email,
            "password": password,
        },
        expect_errors=True,
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


def failures(storage: Storage, key: str) -> int:
    return storage.throttle.counters([key]).get(key, (0, 0))[0]


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


def rp_and_user(provider: Provider) -> tuple[RP, Account]:
    """A client and a user of a provider built by the test (not the mount fixtures)."""
    client = make_client(provider.storage, "Client A", ["https://rp.example/cb"])
    return client, make_user(provider, "bob@example.com", "bob's long password")


def basic(client_id: str, secret: str) -> dict[str, str]:
    creds = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": "Basic " + creds}


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


def _creds(user: Account) -> tuple[str, str]:
    return user.email, user.password


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


# -- every process sees the same counters -----------------------------------------------


def test_two_providers_on_one_database_share_the_counters(
    storage: Storage, database_url: str
) -> None:
    """Two providers (two workers' view): failures on either count towards one lock."""
    one, two = (
        throttled_mount("standalone", storage, database_url, login_pair_lock_threshold=4)
        for _ in range(2)
    )
    assert one.provider is not two.provider
    client_a, alice = rp_and_user(one.provider)
    browsers = [browser_at(one, ATTACKER), browser_at(two, ATTACKER)]
    pages = [login_page(browser, client_a, alice) for browser in browsers]
    statuses = [
        log_in(browsers[n % 2], pages[n % 2], alice.email, "x").status_int for n in range(6)
    ]
    assert statuses == [401] * 4 + [429] * 2
    assert failures(storage, pair_key(alice.email, ATTACKER)) == 6


def test_addresses_in_one_ipv6_64_share_a_counter(
    mount_name: str, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    """An IPv6 subscriber gets a /64: its addresses count as one."""
    mount = throttled_mount(mount_name, storage, database_url, login_pair_lock_threshold=2)
    statuses = []
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2::2"):
        browser = browser_at(mount, address)
        page = login_page(browser, client_a, alice)
        statuses.append(log_in(browser, page, alice.email, "wrong").status_int)
    assert statuses == [401, 401, 429]
    browser = browser_at(mount, "2001:db8:1:3::1")
    assert log_in(browser, login_page(browser, client_a, alice), *_creds(alice)).status_int == 303
