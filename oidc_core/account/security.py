"""Two-step verification on the account pages (``/account/security``).

Setting up an authenticator app: a POST to ``/security/totp`` keeps a new secret (not yet
in force, for this browser session only: :mod:`oidc_core.mfa.totp_setup`) and shows its
QR code and the secret in text; the first code from the app, posted to
``/security/totp/confirm``, turns it on and shows ten recovery codes, once.  A user who
has a factor already (a passkey) gives the password or a code to set one up.
Turning it off (``/security/totp/remove``) and getting new recovery codes (the old ones
die, ``/security/recovery-codes``) need the password or a code (:mod:`.proof`: each
proof counted once, as a code if it looks like one, else as a password).  With host
login the host application signs its users in: they see that it manages their sign-in,
and these POSTs are refused (403).
"""

from __future__ import annotations

from typing import Any

from webob import Response

from ..errors import PageError
from ..mfa import codes, policy, step, totp_setup
from ..throttle import Throttled
from ..ui.translations import N_
from . import proof
from .request import AccountRequest

NOTICES = {
    "removed": N_("Two-step verification is off."),
}
NO_SETUP = N_("Start the setup again.")
SETUP = totp_setup.ACCOUNT
HOST_MANAGED = N_(
    "Your sign-in is managed by the site you signed in with: set up two-step verification there."
)


def security(account: AccountRequest) -> Response:
    """GET: whether two-step verification is on and how many recovery codes are left."""
    notice = account.notice(NOTICES)
    return _page(account, notice=notice)


def start_totp(account: AccountRequest) -> Response:
    """POST: a new secret for an authenticator app, kept for this browser session only and
    shown with its QR code; a user who has a factor already (a passkey) proves it first."""
    _enrols_here(account)
    op, user = account.op, account.user
    enrolled = op.storage.factors.enrolled(user.id)
    if enrolled.totp:
        return account.redirect("/security")
    if enrolled.any:
        proved = proof.refusal(account, _page, error_field="setup_proof_error")
        if isinstance(proved, Response):
            return proved
    secret = totp_setup.start(op, account.request, account.session, SETUP, user, 0)
    return _page(account, setup=step.qr_context(op, user, secret))


def confirm_totp(account: AccountRequest) -> Response:
    """POST: the app's first code turns on the secret this browser session set up; the
    recovery codes are shown once."""
    _enrols_here(account)
    op, user, request, session = account.op, account.user, account.request, account.session
    secret = totp_setup.kept(op, request, session, SETUP, user, 0)
    if secret is None or op.storage.factors.enrolled(user.id).totp:
        return _page(account, status=400, error=NO_SETUP)
    try:
        code = account.field("code")
        confirmed = totp_setup.confirm(op, request, session, SETUP, user, secret, code)
    except Throttled as locked:
        return proof.locked_page(account, _page, locked)
    if not confirmed:
        setup = step.qr_context(op, user, secret)
        return _page(account, status=400, setup=setup, error=step.WRONG_CODE)
    return _page(account, recovery_codes=codes.new_recovery_codes(op, user))


def remove_totp(account: AccountRequest) -> Response:
    """POST with the password or a code: the authenticator app and the recovery codes go."""
    _enrols_here(account)
    op, user = account.op, account.user
    refused = proof.refusal(account, _page)
    if refused is not None:
        return refused
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
    refused = proof.refusal(account, _page)
    if refused is not None:
        return refused
    return _page(account, recovery_codes=codes.new_recovery_codes(op, user))


def _enrols_here(account: AccountRequest) -> None:
    """A host application's users set up their second factor there: it signs them in,
    and a factor enrolled here would never be asked (:func:`.mfa.policy.enrols_here`)."""
    if not policy.enrols_here(account.op):
        raise PageError(HOST_MANAGED, status=403)


def _page(account: AccountRequest, status: int = 200, **extra: Any) -> Response:
    enrolled = account.op.storage.factors.enrolled(account.user.id)
    context: dict[str, Any] = {
        "section": "security",
        "enrolled": enrolled,
        "notice": "",
        "error": "",
        "proof_error": "",
        "setup_proof_error": "",
        "setup": None,
        "recovery_codes": None,
        "has_password": proof.has_password(account),
        "host_managed": not policy.enrols_here(account.op),
    }
    context.update(extra)
    return account.page("account_security.html", status, **context)
