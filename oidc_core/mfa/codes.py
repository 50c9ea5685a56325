"""Checking a one-time code a user typed: a TOTP code or a recovery code, each accepted
once, every attempt counted on the address and on the user's own second-factor counter
(``mfa:``, :mod:`oidc_core.throttle`; a right password never resets it): while either is
locked, :class:`~oidc_core.throttle.Throttled` is raised and no code is looked at."""

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

    return op.throttle.code_attempt(user.id, address, lambda: _spent(op, user, code))


def check_code_or_password(op: Context, user: User, proof: str, address: str) -> str | None:
    """A ``proof`` shaped like a code that may also be the user's password (the account
    pages take either): ``otp`` for a right unused code (spent), ``pwd`` for the password,
    else None.  One attempt, counted once as a code's; the password does not reset the
    code counter."""

    def check() -> str | None:
        if _spent(op, user, proof):
            return authn.OTP
        return authn.KNOWLEDGE if op.accounts.password_matches(user, proof) else None

    return op.throttle.code_attempt(
        user.id, address, check, resets=lambda method: method == authn.OTP
    )


def _spent(op: Context, user: User, code: str) -> str | None:
    """``otp`` once a right unused code of ``user`` is spent, else None (not counted)."""
    if totp.looks_like_code(code):
        return authn.OTP if _totp_accepted(op, user, code) else None
    if recovery.looks_like_code(code):
        spent = op.storage.factors.spend_recovery_code(user.id, recovery.code_digest(code))
        return authn.OTP if spent else None
    return None


def confirm_totp(op: Context, user: User, secret: str, code: str, address: str) -> bool:
    """Turn on ``secret``, the user's new TOTP secret, with its first ``code``: True once
    the code is right (counted like any code) and the user had no confirmed app yet."""

    def check() -> bool | None:
        step = totp.matching_step(secret, code)
        if step is None:
            return None
        return op.storage.factors.add_totp(user.id, secret, step) or None

    return bool(op.throttle.code_attempt(user.id, address, check))


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
