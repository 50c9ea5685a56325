"""Two-step verification on the account pages (``/account/security``).

Setting up an authenticator app: a POST to ``/security/totp`` keeps a new secret (not yet
in force) and shows its QR code and the secret in text; the first code from the app,
posted to ``/security/totp/confirm``, turns it on and shows ten recovery codes, once.
Turning it off (``/security/totp/remove``) and getting new recovery codes (the old ones
die, ``/security/recovery-codes``) need the password or a code (``proof``): a session
left open must not be enough to weaken or take over the second factor.  Every code and
password typed here is counted on the sign-in's brute-force counters.  With host login
the host application signs its users in: they see that it manages their sign-in, and
these POSTs are refused (403).
"""

from __future__ import annotations

from typing import Any

from webob import Response

from ..errors import PageError
from ..mfa import codes, policy, recovery, step, totp
from ..throttle import Throttled
from ..ui.translations import N_
from .request import AccountRequest

NOTICES = {
    "removed": N_("Two-step verification is off."),
}
WRONG_CODE = N_("The code is not correct.")
WRONG_PROOF = N_("This is neither your password nor a valid code.")
NO_SETUP = N_("Start the setup again.")
TOO_MANY = N_("Too many attempts. Try again later.")
HOST_MANAGED = N_(
    "Your sign-in is managed by the site you signed in with: set up two-step verification there."
)


def security(account: AccountRequest) -> Response:
    """GET: whether two-step verification is on and how many recovery codes are left."""
    notice = account.notice(NOTICES)
    return _page(account, notice=notice)


def start_totp(account: AccountRequest) -> Response:
    """POST: a new secret for an authenticator app, shown with its QR code."""
    _enrols_here(account)
    op, user = account.op, account.user
    if op.storage.factors.enrolled(user.id).totp:
        return account.redirect("/security")
    secret = totp.new_secret()
    op.storage.factors.start_totp(user.id, secret)
    return _page(account, setup=step.qr_context(op, user, secret))


def confirm_totp(account: AccountRequest) -> Response:
    """POST: the app's first code turns it on; the recovery codes are shown once."""
    _enrols_here(account)
    op, user = account.op, account.user
    secret = op.storage.factors.totp(user.id)
    if secret is None or secret.confirmed:
        return _page(account, status=400, error=NO_SETUP)
    address = op.client_address(account.request)
    try:
        confirmed = codes.confirm_totp(op, user, account.field("code"), address)
    except Throttled as locked:
        return _locked(account, locked)
    if not confirmed:
        setup = step.qr_context(op, user, secret.secret)
        return _page(account, status=400, setup=setup, error=WRONG_CODE)
    return _page(account, recovery_codes=codes.new_recovery_codes(op, user))


def remove_totp(account: AccountRequest) -> Response:
    """POST with the password or a code: the authenticator app and the recovery codes go."""
    _enrols_here(account)
    op, user = account.op, account.user
    proved = _proved(account)
    if isinstance(proved, Response):
        return proved
    with op.storage.transaction():
        op.storage.factors.remove_totp(user.id)
        if not op.storage.factors.enrolled(user.id).any:
            op.storage.factors.remove_recovery_codes(user.id)
    return account.redirect("/security?notice=removed")


def new_recovery_codes(account: AccountRequest) -> Response:
    """POST with the password or a code: a new set of recovery codes, shown once."""
    _enrols_here(account)
    op, user = account.op, account.user
    if not op.storage.factors.enrolled(user.id).any:
        return account.redirect("/security")
    proved = _proved(account)
    if isinstance(proved, Response):
        return proved
    return _page(account, recovery_codes=codes.new_recovery_codes(op, user))


def _enrols_here(account: AccountRequest) -> None:
    """A host application's users set up their second factor there: it signs them in,
    and a factor enrolled here would never be asked (:func:`.mfa.policy.enrols_here`)."""
    if not policy.enrols_here(account.op):
        raise PageError(HOST_MANAGED, status=403)


def _proved(account: AccountRequest) -> Response | None:
    """None when ``proof`` is the user's password or an unused code, else the page with
    the error (400; 429 with ``Retry-After`` while the counters lock the account)."""
    op, user = account.op, account.user
    proof = account.field("proof")
    address = op.client_address(account.request)
    ok = False
    try:
        if totp.looks_like_code(proof) or recovery.looks_like_code(proof):
            ok = codes.check_code(op, user, proof, address) is not None
        if not ok and op.accounts.builtin and user.email:  # a password may look like a code
            checked = op.accounts.authenticate(user.email, proof, address=address)
            ok = checked is not None and checked.id == user.id
    except Throttled as locked:
        return _locked(account, locked)
    return None if ok else _page(account, status=400, proof_error=WRONG_PROOF)


def _locked(account: AccountRequest, locked: Throttled) -> Response:
    response = _page(account, status=429, error=TOO_MANY)
    response.headers["Retry-After"] = str(locked.retry_after)
    return response


def _page(account: AccountRequest, status: int = 200, **extra: Any) -> Response:
    enrolled = account.op.storage.factors.enrolled(account.user.id)
    context: dict[str, Any] = {
        "section": "security",
        "enrolled": enrolled,
        "notice": "",
        "error": "",
        "proof_error": "",
        "setup": None,
        "recovery_codes": None,
        "has_password": account.op.accounts.builtin and bool(account.user.email),
        "host_managed": not policy.enrols_here(account.op),
    }
    context.update(extra)
    return account.page("account_security.html", status, **context)
