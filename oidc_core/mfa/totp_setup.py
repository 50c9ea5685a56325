"""An authenticator app being set up: its new secret belongs to the browser session that
asked for it, and to nobody else, until the app's first code turns it on.

The secret is kept in the session's encrypted one-time store (:mod:`oidc_core.interactions.flash`,
as passkey challenges are), under a name per purpose (the account pages, a sign-in's
enrolment) and with the user it was made for (and, within a sign-in, when that sign-in
started): a reload of the same page in the same browser shows the same secret, while
another browser session of the same user (or of someone who knows the password) neither
sees it nor can confirm it.  Only a right first code writes the credential, confirmed
(:meth:`FactorStore.add_totp`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request

from ..records import BrowserSession, User
from . import codes, totp

if TYPE_CHECKING:
    from ..context import Context

ACCOUNT = "totp-setup:account"  # set up on the account pages
SIGN_IN = "totp-setup:sign-in"  # set up within a sign-in that requires a second factor
TTL = 900  # seconds to install an app and scan the code


def start(
    op: Context, request: Request, session: BrowserSession, purpose: str, user: User, since: int
) -> str:
    """A new secret for ``user``, kept for this browser session under ``purpose`` (replacing
    one kept before); ``since`` tells apart the sign-ins it is made for (0 elsewhere)."""
    secret = totp.new_secret()
    kept = {"user": user.id, "since": since, "secret": secret}
    op.flashes.put(request, session, purpose, kept, ttl=TTL)
    return secret


def kept(
    op: Context, request: Request, session: BrowserSession, purpose: str, user: User, since: int
) -> str | None:
    """The secret this browser session keeps under ``purpose`` for ``user`` (and ``since``),
    or None."""
    found = op.flashes.peek(request, session, purpose)
    if found is None or found.get("user") != user.id or found.get("since") != since:
        return None
    return str(found["secret"])


def confirm(
    op: Context,
    request: Request,
    session: BrowserSession,
    purpose: str,
    user: User,
    secret: str,
    code: str,
) -> bool:
    """Turn on ``secret`` if ``code`` is its code (counted like any code; raises
    :class:`~oidc_core.throttle.Throttled` while locked); the kept secret is then dropped."""
    if not codes.confirm_totp(op, user, secret, code, op.client_address(request)):
        return False
    op.flashes.take(request, session, purpose)
    return True
