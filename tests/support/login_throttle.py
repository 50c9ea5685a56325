"""Providers with small thresholds and short locks, browsers from given addresses and a
counting account source, for ``test_login_throttle_*.py`` (T-25, T-26, T-27).
"""

from __future__ import annotations

from typing import Any

from oidc_core import Provider
from oidc_core.settings import Settings
from oidc_core.storage import Storage
from tests.conftest import FAST_PASSWORDS, make_client, make_user
from tests.support.flow import RP, Account
from tests.support.mounts import Mount, MountedApp, build, settings_for

ATTACKER = "198.51.100.66"
VICTIM = "203.0.113.10"
PROXY = "10.0.0.1"


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


def browser_at(mount: Mount, address: str, forwarded_for: str = "") -> MountedApp:
    """A browser whose requests come from ``address`` (through ``PROXY`` if forwarded)."""
    browser = mount.browser()
    if forwarded_for:
        browser.extra_environ.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    else:
        browser.extra_environ["REMOTE_ADDR"] = address
    return browser


def rp_and_user(provider: Provider) -> tuple[RP, Account]:
    """A client and a user of a provider built by the test (not the mount fixtures)."""
    client = make_client(provider.storage, "Client A", ["https://rp.example/cb"])
    return client, make_user(provider, "bob@example.com", "bob's long password")
