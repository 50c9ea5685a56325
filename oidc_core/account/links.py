"""Links sent by email: a password reset (30 minutes) or an address to verify (24 hours).

A link carries a 256-bit random token; the database keeps its SHA-256 digest only
(:mod:`oidc_core.storage.links`), so a copy of the database opens no account.  A link acts
on the account it was issued for and on nothing the request names; it is used once, and
a newer link of the same purpose ends the older one.  Opening a link (GET) changes
nothing: mail scanners fetch links before the reader does; its form's POST uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from webob import Request

from ..credentials import digest, new_token
from ..mail import Letter, compose
from ..records import User
from ..ui import locales
from ..ui.translations import N_, Message

if TYPE_CHECKING:
    from ..context import Context

RESET = "reset"
VERIFY = "verify"
RESET_TTL = 30 * 60  # seconds
VERIFY_TTL = 24 * 3600
RESET_PATH = "/account/reset-password"
VERIFY_PATH = "/account/verify-email"

IGNORE = N_("If you did not ask for this, ignore this message: nothing changes.")


def link_digest(token: str) -> str:
    return digest(token)


def send_reset(op: Context, user: User, request: Request | None = None) -> None:
    """Mail ``user`` a new password reset link (their older one stops working)."""
    token = _issue(op, user, RESET, RESET_TTL)
    letter = Letter(
        subject=N_("Reset your password"),
        before=(
            N_("Someone, probably you, asked to reset the password of your account."),
            Message(
                N_("Choose a new password within %(minutes)s minutes:"),
                {"minutes": RESET_TTL // 60},
            ),
        ),
        action=N_("Choose a new password"),
        link=_url(op, RESET_PATH, token),
        after=(IGNORE,),
    )
    _post(op, user, request, letter)


def send_verification(op: Context, user: User, request: Request | None = None) -> None:
    """Mail ``user`` a link that confirms their current address (``email_verified``
    becomes true when it is used and the address is still theirs); nothing for an
    account without an address (a host's)."""
    if not user.email:
        return
    token = _issue(op, user, VERIFY, VERIFY_TTL, email=user.email)
    letter = Letter(
        subject=N_("Confirm your email address"),
        before=(
            Message(
                N_("Confirm that %(email)s is your address within %(hours)s hours:"),
                {"email": user.email, "hours": VERIFY_TTL // 3600},
            ),
        ),
        action=N_("Confirm my address"),
        link=_url(op, VERIFY_PATH, token),
        after=(IGNORE,),
    )
    _post(op, user, request, letter)


def _issue(op: Context, user: User, purpose: str, ttl: int, email: str = "") -> str:
    token = new_token()
    op.storage.links.issue(user.id, purpose, link_digest(token), ttl, email=email)
    return token


def _url(op: Context, path: str, token: str) -> str:
    return op.url(path) + "?" + urlencode({"token": token})


def _post(op: Context, user: User, request: Request | None, letter: Letter) -> None:
    """Queue the letter in the reader's language: the account's, else the page's."""
    language = locales.supported(user.locale) or locales.for_request(request)
    to, settings = user.email or "", op.settings
    op.mail.post(lambda: compose(settings, to, language, letter))
