"""Guessing second-factor codes stays locked: wrong codes (and refused passkeys at the
second step) count on the user's own ``mfa:`` counter and the address's, which a right
password never resets; only a right second factor does.  One half-done sign-in takes five
wrong codes, then the password must be typed again.  A wrong proof on the security page
counts once.  Two providers on one database share the counter.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import webtest

from oidc_core.storage import Storage
from oidc_core.throttle import account_key, address_key, mfa_key
from tests.conftest import make_user
from tests.support import account_pages
from tests.support.flow import Account, hidden
from tests.support.login_throttle import browser_at, throttled_mount
from tests.support.mfa import Authenticator, enrol, second_factor_page, second_step
from tests.support.mounts import Mount
from tests.support.passkeys import add, authenticator_for, second_factor_with
from tests.support.throttle_logins import failures

pytestmark = pytest.mark.mounts("one")

WRONG = "The code is not correct."
TOO_MANY = "Too many wrong codes. Sign in again."
STEP = "/account/login/second-factor"


def guarded(mount_name: str, storage: Storage, database_url: str, **options: Any) -> Mount:
    """A provider whose account-wide threshold (the ``mfa:`` counter's too) is ``options``'."""
    return throttled_mount(mount_name, storage, database_url, **options)


def user_of(mount: Mount) -> Account:
    return make_user(mount.provider, "carol@example.com", "carol's long password")


def user_id(mount: Mount, user: Account) -> int:
    found = mount.provider.storage.users.by_email(user.email)
    assert found is not None
    return found.id


def with_app(mount: Mount, user: Account) -> Authenticator:
    """``user`` sets up an authenticator app (signed in from an address of its own)."""
    browser = browser_at(mount, "192.0.2.200")
    assert account_pages.sign_in(browser, user.email, user.password).status_int == 303
    return enrol(browser)


def past_password(mount: Mount, user: Account, address: str) -> tuple[webtest.TestApp, Any]:
    """A new browser at ``address`` whose right password got it to the second step."""
    browser = browser_at(mount, address)
    page = second_factor_page(account_pages.sign_in(browser, user.email, user.password), STEP)
    return browser, page


def signed_in(response: webtest.TestResponse) -> bool:
    return response.status_int == 303 and response.headers["Location"].endswith("/account/")


def test_password_then_wrong_codes_from_new_networks_is_locked(
    mount_name: str, storage: Storage, database_url: str
) -> None:
    """The reviewer's attack: the password is known; each round, from a new IPv6 /64, it
    is typed right, then four wrong codes.  The right passwords do not wipe the codes'
    failures: after ``login_lock_threshold`` (20) wrong codes even the right code gets
    429 with ``Retry-After``, from any network."""
    mount = guarded(mount_name, storage, database_url, login_lock_threshold=20)
    user = user_of(mount)
    device = with_app(mount, user)
    for round_ in range(5):
        browser, page = past_password(mount, user, f"2001:db8:{round_ + 1}::1")
        for guess in range(4):
            response = second_step(browser, page, device.wrong(guess * 10))
            assert response.status_int == 401, (round_, guess)
    for round_ in range(2):  # a new network, the password right: still locked
        browser, page = past_password(mount, user, f"2001:db8:{round_ + 100}::1")
        locked = second_step(browser, page, device.code())
        assert locked.status_int == 429, locked.status
        assert int(locked.headers["Retry-After"]) > 0
        assert WRONG in locked.text
        assert browser.get("/account/").status_int == 303  # nobody signed in
    assert failures(storage, mfa_key(user_id(mount, user))) == 22  # 20, and two refused


def test_the_lock_ends_and_a_right_code_resets_the_counter(
    mount_name: str, storage: Storage, database_url: str
) -> None:
    """A password right after wrong codes keeps their count; the right code refused during
    the lock works once the lock is over, and resets the counter."""
    mount = guarded(mount_name, storage, database_url, login_lock_threshold=3, login_lock_seconds=1)
    user = user_of(mount)
    device = with_app(mount, user)
    key = mfa_key(user_id(mount, user))
    browser, page = past_password(mount, user, "198.51.100.1")
    for guess in range(2):
        assert second_step(browser, page, device.wrong(guess * 10)).status_int == 401
    browser, page = past_password(mount, user, "198.51.100.2")
    assert failures(storage, key) == 2  # the right password reset nothing
    assert second_step(browser, page, device.wrong(50)).status_int == 401  # the third: lock
    code = device.code()
    assert second_step(browser, page, code).status_int == 429
    time.sleep(1.2)
    assert signed_in(second_step(browser, page, code))
    assert failures(storage, key) == 0
    browser, page = past_password(mount, user, "198.51.100.3")
    assert second_step(browser, page, device.wrong(70)).status_int == 401  # counted anew


def test_the_half_done_sign_in_ends_after_five_wrong_codes(
    mount_name: str, storage: Storage, database_url: str
) -> None:
    """The fifth wrong code ends the half-done sign-in (the session forgets it): the right
    code is then refused until the password is typed again."""
    mount = guarded(mount_name, storage, database_url, login_lock_threshold=20)
    user = user_of(mount)
    device = with_app(mount, user)
    browser, page = past_password(mount, user, "198.51.100.9")
    for guess in range(4):
        response = second_step(browser, page, device.wrong(guess * 10))
        assert response.status_int == 401 and WRONG in response.text
    ended = second_step(browser, page, device.wrong(40))
    assert ended.status_int == 401 and TOO_MANY in ended.text
    session = mount.provider.storage.sessions.by_key(browser.cookies["oidc_session"])
    assert session is not None
    assert mount.provider.storage.sessions.pending_sign_in(session.id, 3600) is None
    code = device.code()
    refused = second_step(browser, page, code)
    assert refused.status_int == 400 and not signed_in(refused)
    assert browser.get("/account/").status_int == 303
    page = second_factor_page(account_pages.sign_in(browser, user.email, user.password), STEP)
    assert signed_in(second_step(browser, page, code))


def test_a_wrong_proof_on_the_security_page_counts_once(
    mount_name: str, storage: Storage, database_url: str
) -> None:
    """A wrong code-shaped proof counts once, as a code (address and ``mfa:``), not again
    as a password; a wrong proof of another shape once, as a password."""
    mount = guarded(mount_name, storage, database_url)
    user = user_of(mount)
    device = with_app(mount, user)
    browser, page = past_password(mount, user, "192.0.2.201")
    assert signed_in(second_step(browser, page, device.code()))
    browser.extra_environ["REMOTE_ADDR"] = "203.0.113.77"
    keys = (address_key("203.0.113.77"), mfa_key(user_id(mount, user)), account_key(user.email))

    def counted() -> tuple[int, ...]:
        return tuple(failures(storage, key) for key in keys)

    for proof, expected in ((device.wrong(), (1, 1, 0)), ("not my password", (2, 1, 1))):
        token = hidden(browser.get("/account/security"), "csrf_token")
        response = account_pages.post(
            browser, "/account/security/recovery-codes", {"proof": proof}, token=token
        )
        assert response.status_int == 400, response.status
        assert counted() == expected, proof


def test_two_providers_on_one_database_share_the_mfa_counter(
    mount_name: str, storage: Storage, database_url: str
) -> None:
    """Two providers (two workers' view) on one database: wrong codes at either count
    towards one lock of the user's second factor."""
    one, two = (
        guarded(mount_name, storage, database_url, login_lock_threshold=4) for _ in range(2)
    )
    assert one.provider is not two.provider
    user = user_of(one)
    device = with_app(one, user)
    statuses = []
    for n in range(3):
        mount = (one, two)[n % 2]
        browser, page = past_password(mount, user, f"198.51.100.{n + 20}")
        statuses.append(second_step(browser, page, device.wrong(n * 10)).status_int)
        statuses.append(second_step(browser, page, device.wrong(n * 10 + 5)).status_int)
    assert statuses == [401] * 4 + [429] * 2
    assert failures(storage, mfa_key(user_id(one, user))) == 6
    browser, page = past_password(two, user, "198.51.100.30")
    assert second_step(browser, page, device.code()).status_int == 429


def test_refused_passkeys_at_the_step_count_on_the_users_counter(
    mount_name: str, storage: Storage, database_url: str
) -> None:
    """A passkey refused at the second step counts on the user's ``mfa:`` counter too
    (from any address); once it is locked even the right key gets 429."""
    mount = guarded(mount_name, storage, database_url, login_lock_threshold=3)
    user = user_of(mount)
    owner = browser_at(mount, "192.0.2.200")
    assert account_pages.sign_in(owner, user.email, user.password).status_int == 303
    key = authenticator_for(owner)
    assert (
        add(owner, key, "Security key", passwordless=False, proof=user.password).status_int == 303
    )
    statuses = []
    for n in range(4):
        browser, page = past_password(mount, user, f"2001:db8:{n + 1}::1")
        statuses.append(second_factor_with(browser, page, key, origin="https://evil.example"))
    assert [r.status_int for r in statuses] == [401, 401, 401, 429]
    assert failures(storage, mfa_key(user_id(mount, user))) == 3  # a lock is read, not counted
    browser, page = past_password(mount, user, "2001:db8:99::1")
    response = second_factor_with(browser, page, key)
    assert response.status_int == 429 and int(response.headers["Retry-After"]) > 0
    assert browser.get("/account/").status_int == 303
