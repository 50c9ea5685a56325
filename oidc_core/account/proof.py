"""The proof a change to the account's second factors needs: the password or a code.

A session left open must not be enough to weaken or take over the second factor, so
turning off the authenticator app, getting new recovery codes, and adding or removing a
passkey each ask for the user's password or an unused code (``proof``), counted on the
sign-in's brute-force counters.  A host application's user has no password here: only a
code proves it is them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webob import Response

from ..mfa import codes, recovery, totp
from ..throttle import Throttled
from ..ui.translations import N_
from .request import AccountRequest

WRONG_PROOF = N_("This is neither your password nor a valid code.")
TOO_MANY = N_("Too many attempts. Try again later.")

#: Renders the page again: ``page(account, status, **context)``.
Page = Callable[..., Response]


def has_password(account: AccountRequest) -> bool:
    """Whether the user signs in with a password of this provider (not a host's user)."""
    return account.op.accounts.builtin and bool(account.user.email)


def refusal(
    account: AccountRequest, page: Page, error_field: str = "proof_error", **context: Any
) -> Response | None:
    """None when ``proof`` is the user's password or an unused code, else ``page`` with
    the error as ``error_field`` (400; 429 with ``Retry-After`` while the counters lock
    the account); ``context`` goes to the page either way."""
    op, user = account.op, account.user
    proof = account.field("proof")
    address = op.client_address(account.request)
    login = user.email if has_password(account) else None  # None: no password here
    ok = False
    try:  # one attempt, counted once: as a code if it looks like one, else as a password
        if totp.looks_like_code(proof) or recovery.looks_like_code(proof):
            if login:  # a password may look like a code: checked within the same attempt
                ok = codes.check_code_or_password(op, user, proof, address) is not None
            else:
                ok = codes.check_code(op, user, proof, address) is not None
        elif login:
            checked = op.accounts.authenticate(login, proof, address=address)
            ok = checked is not None and checked.id == user.id
    except Throttled as locked:
        return locked_page(account, page, locked, **context)
    return None if ok else page(account, 400, **{error_field: WRONG_PROOF}, **context)


def locked_page(account: AccountRequest, page: Page, locked: Throttled, **context: Any) -> Response:
    """``page`` saying to try later: 429 with ``Retry-After``."""
    response = page(account, 429, error=TOO_MANY, **context)
    response.headers["Retry-After"] = str(locked.retry_after)
    return response
