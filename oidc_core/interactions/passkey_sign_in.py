"""Signing in with a passkey, without a password: the login page of an authorization
request and the account pages' sign-in.

The page's script asks :func:`options` (``POST /passkey/options``, CSRF-checked for this
browser session) for a challenge, lets the browser sign it with a passkey
(``navigator.credentials.get``), and posts the answer in the field ``passkey`` of the sign-in
form, next to the form's usual CSRF token.  :func:`check` verifies it
(:func:`oidc_core.mfa.passkeys.verify_assertion`): a refused or malformed answer gets the
form again with one message, 401 (429 with ``Retry-After`` while the address is locked).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses
from ..errors import InvalidRequest, ProviderError
from ..mfa import passkeys, step
from ..params import first, posted_form, single
from ..records import BrowserSession, User
from ..throttle import Throttled
from ..ui.translations import N_
from .browser import csrf_token, csrf_valid

if TYPE_CHECKING:
    from ..context import Context

log = logging.getLogger(__name__)

FIELD = "passkey"  # the sign-in form's field that carries the browser's answer
CSRF_PURPOSE = "passkey"
FAILED = N_("This passkey could not be used to sign in. Try again, or use your password.")
# The form shown again after a refused passkey: status -> the page.
Refusal = Callable[[int], Response]


def page_context(op: Context, session: BrowserSession) -> dict[str, str]:
    """What a sign-in page needs to offer passkeys: the options URL and its CSRF token
    (both empty when passkeys are unavailable: the page then offers none)."""
    if passkeys.party(op) is None:
        return {"passkey_options_url": "", "passkey_csrf": ""}
    return {
        "passkey_options_url": op.url("/passkey/options"),
        "passkey_csrf": csrf_token(session, CSRF_PURPOSE),
    }


def options(op: Context, request: Request) -> Response:
    """``POST /passkey/options``: the assertion options (JSON) for a passwordless sign-in,
    its challenge kept for this browser session; with ``second_factor=1``, for the second
    step of this session's half-done sign-in (:mod:`oidc_core.mfa.step`): that user's
    credentials, a challenge a passwordless sign-in cannot answer (nor the reverse)."""
    if request.method != "POST":
        raise ProviderError("use POST", error="invalid_request", status=405)
    session = op.browser.current(request)
    form = posted_form(request, 128)
    if session is None or not csrf_valid(session, CSRF_PURPOSE, single(form, "csrf_token")):
        raise ProviderError("the page has expired; reload it", error="invalid_request", status=403)
    if passkeys.party(op) is None:
        raise InvalidRequest("passkeys are not available on this provider", status=404)
    expected_user_id = None
    if single(form, "second_factor"):
        found = step.half_done(op, session)
        if found is None:
            raise InvalidRequest(
                "no sign-in waits for a second factor in this browser; sign in again",
                status=400,
            )
        expected_user_id = found[1].id
    body = passkeys.assertion_options(op, request, session, expected_user_id).encode("utf-8")
    return responses.json_body_response(body)


def wanted(fields: dict[str, list[str]]) -> bool:
    """Whether a posted sign-in form carries a passkey rather than a password (an empty
    field, as a page's hidden passkey form holds before its script fills it, does not)."""
    return bool(first(fields, FIELD))


def check(
    op: Context,
    request: Request,
    session: BrowserSession,
    fields: dict[str, list[str]],
    refuse: Refusal,
) -> tuple[User, tuple[str, ...]] | Response:
    """The user the posted passkey proves and its ``amr``, or the refusal."""
    try:
        return passkeys.verify_assertion(op, request, session, first(fields, FIELD), None)
    except Throttled as locked:
        response = refuse(429)
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    except passkeys.PasskeyRefused:
        return refuse(401)
