"""Brute-force protection: failed sign-ins counted and locked (``docs/security.md``).

A password attempt is counted on three keys, checked in this order:

* ``ip:<address>`` (an IPv6 address counts as its /64): ``login_ip_lock_threshold``;
* ``pair:<login digest>:<address digest>``, one account from one address:
  ``login_pair_lock_threshold``, so an attacker's address is stopped before the account;
* ``account:<login digest>``, the account from anywhere: ``login_lock_threshold``.

The attempt is counted *before* the password is checked (in one write transaction, see
:mod:`oidc_core.storage.throttle`), so parallel attempts cannot all slip in before the
first failure is recorded, and a locked attempt costs no password hash: it is refused
with :class:`Throttled` and answered like a wrong password (status 429).  A success takes
back what was counted ahead: the pair and account counters are reset, the address's is
decremented.  Unknown logins are counted exactly like existing ones.

A key that reaches its threshold is locked for ``login_lock_seconds``, doubled with every
further failure up to ``login_lock_max_seconds``; a counter without a failure for
``login_failure_window`` seconds starts again from zero.

Client authentication at the token, revocation and introspection endpoints is counted on
``ip:`` (the same counter) and ``client-pair:`` (one client_id from one address).  A client
secret is a 256-bit random string checked with one SHA-256, so there is no hashing to
spare: the lock is read before the request and a failure counted after it.

A request for a password reset link is counted like an attempt, on ``ip:`` and on
``mail:<login digest>`` (:meth:`Throttle.link_request`).

A second factor (a TOTP or recovery code; a passkey at the second step) is counted on
``ip:`` and on ``mfa:<user id digest>``, the user's own counter (``login_lock_threshold``,
the account's lock growth), never on the password's: a right password must not wipe out
the failures of the codes guessed after it.  Only a right second factor resets ``mfa:``.
Each half-done sign-in also takes at most :data:`CODES_PER_SIGN_IN` wrong codes
(``sign-in:`` counter, :meth:`Throttle.code_failed_in_sign_in`); then it ends.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from .credentials import digest
from .errors import ProviderError
from .settings import Settings
from .storage import Storage
from .storage.throttle import Counted, Limit

log = logging.getLogger(__name__)

T = TypeVar("T")

CODES_PER_SIGN_IN = 5  # wrong codes one half-done sign-in takes before it ends


class Throttled(ProviderError):
    """Too many failed attempts: refused without checking the credentials.

    Sign-in pages answer it like a wrong password, with status 429 and ``Retry-After``;
    uncaught, it becomes a 429 error page or JSON error with ``Retry-After``."""

    error = "temporarily_unavailable"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed attempts; try again later")
        self.retry_after = max(1, retry_after)


def login_digest(login: str) -> str:
    """The digest that names a login in counters and logs (case and spaces ignored)."""
    return digest(login.strip().lower())


@functools.lru_cache(maxsize=4096)  # parsing an address costs more than the counter read
def address_key(address: str) -> str:
    """``ip:`` and the address; an IPv6 address as its /64 (one subscriber's network)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "ip:?" + digest(address)[:32]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"ip:{ip}"


def account_key(login: str) -> str:
    return f"account:{login_digest(login)}"


def pair_key(login: str, address: str) -> str:
    """One login from one address: ``pair:<login digest>:<address digest>`` (128 bits each;
    the login's part first, so that :func:`pair_prefix` finds all of a login's pairs)."""
    return pair_prefix(login) + digest(address_key(address))[:32]


def pair_prefix(login: str) -> str:
    return f"pair:{login_digest(login)[:32]}:"


def mfa_key(user_id: int) -> str:
    """The second factor's counter of one user: ``mfa:<user id digest>`` (the id, which
    every provider on the database sees alike, not the login, which may change)."""
    return f"mfa:{digest(f'user:{user_id}')}"


def sign_in_key(session_id: int, started_at: int) -> str:
    """The wrong codes of one half-done sign-in (a browser session's, begun at
    ``started_at``)."""
    return f"sign-in:{digest(f'{session_id}:{started_at}')[:32]}"


class Throttle:
    """The policy, applied to password sign-ins and to client authentication."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        *,
        on_password_failure: Callable[[], None] | None = None,
    ) -> None:
        """``on_password_failure``: called for each wrong password (metrics count them)."""
        self._settings = settings
        self._store = storage.throttle
        self._on_password_failure = on_password_failure

    def lock_seconds(self, failures: int, threshold: int) -> int:
        """``login_lock_seconds`` doubled per failure beyond the threshold, capped."""
        doublings = min(max(failures - threshold, 0), 32)
        return min(
            self._settings.login_lock_seconds << doublings, self._settings.login_lock_max_seconds
        )

    # -- passwords -----------------------------------------------------------------------

    def password_attempt(self, login: str, address: str, check: Callable[[], T | None]) -> T | None:
        """Run ``check`` (the password verification) unless a lock refuses the attempt.

        Raises :class:`Throttled` when the address, the pair or the account is locked;
        otherwise returns what ``check`` returns, None meaning a failure.  A success resets
        the pair and the account (never the second factor's ``mfa:`` counter)."""
        ip, pair, account = self._password_limits(login, address)
        return self._attempt(
            "sign-in",
            (ip, pair, account),
            login_digest(login)[:12],
            address,
            check,
            lambda _: (pair.key, account.key),
            self._on_password_failure,
        )

    def code_attempt(
        self,
        user_id: int,
        address: str,
        check: Callable[[], T | None],
        *,
        resets: Callable[[T], bool] = lambda _: True,
    ) -> T | None:
        """:meth:`password_attempt` for a second factor's code (TOTP or recovery code) of
        the user ``user_id``: counted on the address and on the user's ``mfa:`` counter
        (``login_lock_threshold``), which only a right code resets (``resets``: whether
        ``check``'s answer is one; a password that stood in for a code is not)."""
        ip, mfa = self._second_factor_limits(user_id, address)
        return self._attempt(
            "second factor",
            (ip, mfa),
            mfa.key[4:16],
            address,
            check,
            lambda result: (mfa.key,) if resets(result) else (),
            None,
        )

    def code_failed_in_sign_in(self, session_id: int, started_at: int) -> bool:
        """A wrong code in the half-done sign-in of browser session ``session_id`` begun at
        ``started_at``: True when it is the :data:`CODES_PER_SIGN_IN`-th, and the caller
        ends the sign-in (its counter is then forgotten)."""
        key = sign_in_key(session_id, started_at)
        counted = self._count((Limit(key, CODES_PER_SIGN_IN),))
        if counted.failures.get(key, 0) < CODES_PER_SIGN_IN:
            return False
        self._store.succeeded((key,))
        return True

    def _attempt(
        self,
        what: str,
        limits: tuple[Limit, ...],
        name: str,
        address: str,
        check: Callable[[], T | None],
        forget: Callable[[T], tuple[str, ...]],
        on_failure: Callable[[], None] | None,
    ) -> T | None:
        """Count on ``limits`` (the address first), then ``check``; a success deletes the
        counters ``forget`` names and takes back the address's failure."""
        counted = self._count(limits)
        if counted.refused_by:
            self._refused(what, counted, name, address)
        result = check()
        if result is None:
            self._failed(what, counted, name, address)
            if on_failure is not None:
                on_failure()
        else:
            ip = limits[0].key
            self._store.succeeded(forget(result), ip, dict(counted.locks_set).get(ip, 0))
        return result

    def _password_limits(self, login: str, address: str) -> tuple[Limit, Limit, Limit]:
        settings = self._settings
        return (
            Limit(address_key(address), settings.login_ip_lock_threshold),
            Limit(pair_key(login, address), settings.login_pair_lock_threshold),
            Limit(account_key(login), settings.login_lock_threshold),
        )

    def _second_factor_limits(self, user_id: int, address: str) -> tuple[Limit, Limit]:
        settings = self._settings
        return (
            Limit(address_key(address), settings.login_ip_lock_threshold),
            Limit(mfa_key(user_id), settings.login_lock_threshold),
        )

    # -- links sent by email -------------------------------------------------------------

    def link_request(self, login: str, address: str) -> None:
        """A request for a link by email to ``login`` (a password reset): counted, whether
        the account exists or not, on the address (the counter of failed sign-ins) and on
        ``mail:<login digest>`` (``login_pair_lock_threshold`` links, then locked and
        doubling).  Raises :class:`Throttled` while either is locked."""
        settings = self._settings
        limits = (
            Limit(address_key(address), settings.login_ip_lock_threshold),
            Limit(f"mail:{login_digest(login)}", settings.login_pair_lock_threshold),
        )
        counted = self._count(limits)
        if counted.refused_by:
            self._refused("link request", counted, login_digest(login)[:12], address)

    def forget_login(self, login: str) -> None:
        """Clear the failed sign-in counters of ``login`` (from every address): its
        password was just reset."""
        self._store.clear([account_key(login)], [pair_prefix(login)])

    # -- clients -------------------------------------------------------------------------

    def client_lock(self, client_id: str, address: str) -> tuple[int, bool]:
        """Before a client authenticates: seconds until its lock ends (0: not locked),
        and whether it has failures on record (so a success must reset them)."""
        keys = [limit.key for limit in self._client_limits(client_id, address)]
        found = self._store.counters(keys)
        now = int(time.time())
        retry_after = max((until - now for _, until in found.values()), default=0)
        pair_failures = found.get(keys[-1], (0, 0))[0]
        return max(retry_after, 0), pair_failures > 0

    def client_failed(self, client_id: str, address: str) -> None:
        """A client failed to authenticate (wrong secret, unknown client_id, ...), or was
        refused by a lock: counted either way, like a password attempt."""
        counted = self._count(self._client_limits(client_id, address))
        name = digest(client_id)[:12]
        if counted.refused_by:
            log.info(
                "client authentication refused: %s locked (%s, from %s)",
                _kind(counted.refused_by),
                name,
                address,
            )
            return
        self._failed("client authentication", counted, name, address)

    def client_succeeded(self, client_id: str, address: str) -> None:
        self._store.succeeded((self._client_limits(client_id, address)[-1].key,))

    def _client_limits(self, client_id: str, address: str) -> tuple[Limit, ...]:
        ip = address_key(address)
        pair = f"client-pair:{digest(client_id)[:32]}:{digest(ip)[:32]}"
        settings = self._settings
        return (
            Limit(ip, settings.login_ip_lock_threshold),
            Limit(pair, settings.login_pair_lock_threshold),
        )

    # -- passkeys ------------------------------------------------------------------------

    def passkey_check(self, address: str, user_id: int | None = None) -> None:
        """Before a passkey sign-in is checked: :class:`Throttled` while the address is
        locked, or, for the second step of ``user_id``'s sign-in, that user's ``mfa:``
        counter (one signature check costs little: the lock is read, a failure counted
        after it, as for clients)."""
        keys = [address_key(address)]
        if user_id is not None:
            keys.append(mfa_key(user_id))
        found = self._store.counters(keys)
        retry_after = max(until for _, until in found.values()) - int(time.time()) if found else 0
        if retry_after > 0:
            log.info(
                "passkey sign-in refused: locked for %d s more (from %s)", retry_after, address
            )
            raise Throttled(retry_after)

    def passkey_failed(self, address: str, user_id: int | None = None) -> None:
        """A passkey sign-in failed: counted on the address, like a wrong password, and at
        the second step of ``user_id``'s sign-in on that user's ``mfa:`` counter too."""
        if user_id is None:
            limits: tuple[Limit, ...] = (
                Limit(address_key(address), self._settings.login_ip_lock_threshold),
            )
        else:
            limits = self._second_factor_limits(user_id, address)
        counted = self._count(limits)
        if not counted.refused_by:
            self._failed("passkey sign-in", counted, "-", address)

    def passkey_succeeded(self, user_id: int) -> None:
        """A passkey proved the second step of ``user_id``'s sign-in: its ``mfa:`` counter
        starts again."""
        self._store.succeeded((mfa_key(user_id),))

    # -- shared --------------------------------------------------------------------------

    def _count(self, limits: tuple[Limit, ...]) -> Counted:
        return self._store.count(
            limits,
            int(time.time()),
            window=self._settings.login_failure_window,
            lock_seconds=self.lock_seconds,
        )

    def _refused(self, what: str, counted: Counted, name: str, address: str) -> None:
        retry_after = counted.locked_until - int(time.time())
        log.info(
            "%s refused: %s locked for %d s more (%s, from %s)",
            what,
            _kind(counted.refused_by),
            retry_after,
            name,
            address,
        )
        raise Throttled(retry_after)

    def _failed(self, what: str, counted: Counted, name: str, address: str) -> None:
        failures = ", ".join(f"{_kind(k)} {n}" for k, n in counted.failures.items())
        log.info("%s failed (%s, from %s; failures: %s)", what, name, address, failures)
        now = int(time.time())
        for key, until in counted.locks_set:
            log.info("%s locked for %d s (%s, from %s)", _kind(key), until - now, name, address)


def _kind(key: str) -> str:
    return key.split(":", 1)[0]
