"""Checking a one-time code a user typed: a TOTP code or a recovery code, each accepted
once, every attempt counted on the password's brute-force counters (:mod:`oidc_core.throttle`):
while the account, the pair or the address is locked, :class:`~oidc_core.throttle.Throttled`
is raised and no code is looked at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import authn
from ..records import User
from . import recovery, totp

if TYPE_CHECKING:
    from ..context import Context


def check_code(op: Context, user: User, code: str, address: str) -> str | None:
    """The method (``otp``) a right, unused ``code`` of ``user`` proves, or None; a TOTP
    code is spent (its time step and every earlier one), a recovery code is spent."""

    def check() -> str | None:
        if totp.looks_like_code(code):
            return authn.OTP if _totp_accepted(op, user, code) else None
        if recovery.looks_like_code(code):
            spent = op.storage.factors.spend_recovery_code(user.id, recovery.code_digest(code))
            return authn.OTP if spent else None
        return None

    return op.throttle.code_attempt(op.accounts.actor(user), address, check)


def confirm_totp(op: Context, user: User, secret: str, code: str, address: str) -> bool:
    """Turn on ``secret``, the user's new TOTP secret, with its first ``code``: True once
    the code is right (counted like any code) and the user had no confirmed app yet."""

    def check() -> bool | None:
        step = totp.matching_step(secret, code)
        if step is None:
            return None
        return op.storage.factors.add_totp(user.id, secret, step) or None

    return bool(op.throttle.code_attempt(op.accounts.actor(user), address, check))


def _totp_accepted(op: Context, user: User, code: str) -> bool:
    secret = op.storage.factors.totp(user.id)
    if secret is None or not secret.confirmed:
        return False
    step = totp.matching_step(secret.secret, code)
    return step is not None and op.storage.factors.advance_totp(user.id, step)


def new_recovery_codes(op: Context, user: User) -> list[str]:
    """A new set of recovery codes for ``user`` (the old set dies), to be shown once."""
    codes = recovery.new_codes()
    op.storage.factors.replace_recovery_codes(user.id, [recovery.code_digest(c) for c in codes])
    return codes
