"""The throttle's counters are shared: by two providers on one database, and by the
addresses of one IPv6 /64.
"""

from __future__ import annotations

from oidc_core.storage import Storage
from oidc_core.throttle import pair_key
from tests.support.flow import RP, Account
from tests.support.login_throttle import ATTACKER, browser_at, rp_and_user, throttled_mount
from tests.support.throttle_logins import _creds, failures, log_in, login_page

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
