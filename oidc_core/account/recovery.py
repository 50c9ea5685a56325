"""A forgotten password: the link by email (``/account/forgot-password``) and the new
password it lets the reader choose (``/account/reset-password?token=...``).

Asking for a link answers the same (a 303 to the same page) whether the address has an
account or not, after the same work (the request counted by the brute-force limits, one
user lookup, one write); the message itself is sent in the background.  Choosing the
new password uses the link, once, in the transaction that stores the password, revokes
every token of the account and ends every session (back-channel logout included); the
account's failed sign-in counters are cleared.  Built-in accounts only: a host's users
reset their password at the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses
from ..credentials import new_token
from ..interactions.sign_in import FORGOT_PASSWORD_PATH
from ..params import first
from ..throttle import Throttled
from ..ui.translations import N_
from . import links, visitor
from .profile import HOST_OWNED, MIN_PASSWORD, password_errors
from .sessions import end_every_session

if TYPE_CHECKING:
    from ..context import Context

FORGOT_PURPOSE = "forgot-password"
RESET_PURPOSE = "reset-password"

SENT = N_(
    "If an account has this address, we sent a link to it. Open it within 30 minutes to "
    "choose a new password."
)
TOO_MANY = N_("Too many requests for this address or from your network. Try again later.")
DEAD_LINK = N_(
    "This link does not work (any more): it was used, a newer one was sent, or it expired. "
    "Ask for a new one."
)
NO_EMAIL = N_("Enter the email address of your account.")
CHANGED = N_(
    "Your password was changed. Every session and app signed in with the old one was signed out."
)
SIGN_IN = N_("Sign in")
ASK_AGAIN = N_("Ask for a new link")


def forgot_password(op: Context, request: Request) -> Response:
    """GET: the form asking for the address; POST: a link to it, if it has an account."""
    if not op.accounts.builtin:
        return op.error_page(HOST_OWNED, 403, request=request)
    if request.method == "GET":
        notice = SENT if visitor.query_value(request, "sent") == "1" else ""
        return _forgot_form(op, request, notice=notice)
    fields = visitor.posted(op, request, FORGOT_PURPOSE)
    if isinstance(fields, Response):
        return fields
    email = first(fields, "email").strip()
    if not email or len(email) > 320:
        return _forgot_form(op, request, error=NO_EMAIL, status=400)
    try:
        op.throttle.link_request(email, op.client_address(request))
    except Throttled as locked:
        response = _forgot_form(op, request, error=TOO_MANY, status=429)
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    user = op.storage.users.by_email(email)
    # A suspended or closed account is answered like an unknown address: no link.
    if user is not None and user.email and op.accounts.active(user):
        links.send_reset(op, user, request)
    else:
        op.storage.links.forget(links.link_digest(new_token()))  # the same write, for nobody
    return responses.redirect(op.url(FORGOT_PASSWORD_PATH + "?sent=1"), 303)


def reset_password(op: Context, request: Request) -> Response:
    """GET: the new password form of a live link (the link is not used yet); POST: the
    new password stored, the link used, every token and session of the account ended."""
    if not op.accounts.builtin:
        return op.error_page(HOST_OWNED, 403, request=request)
    if request.method == "GET":
        token = visitor.token_of(request)
        if op.storage.links.find(links.link_digest(token), links.RESET) is None:
            return _dead_link(op, request)
        return _reset_form(op, request, token)
    fields = visitor.posted(op, request, RESET_PURPOSE)
    if isinstance(fields, Response):
        return fields
    token = visitor.token_of(request, fields)
    token_digest = links.link_digest(token)
    found = op.storage.links.find(token_digest, links.RESET)  # before hashing anything
    owner = op.storage.users.by_id(found.user_id) if found else None
    if owner is None or not op.accounts.active(owner):  # (a suspension ends its links too)
        return _dead_link(op, request)
    new = first(fields, "new_password")
    again = first(fields, "new_password_again")
    errors = password_errors(op.settings.password_max_length, new, again)
    if errors:
        return _reset_form(op, request, token, errors=errors, status=400)
    new_hash = op.passwords.hash(new)
    with op.storage.transaction():
        link = op.storage.links.use(token_digest, links.RESET)
        if link is None:  # used by a request that was faster
            return _dead_link(op, request)
        op.storage.users.set_password_hash(link.user_id, new_hash)
        op.storage.account.revoke(link.user_id, None)
        queued = end_every_session(op, link.user_id)
    if queued:
        op.backchannel.wake()
    user = op.storage.users.by_id(link.user_id)
    if user is not None and user.email:
        op.throttle.forget_login(user.email)
    login_url = op.url("/account/login")
    return visitor.link_result(op, request, CHANGED, 200, next_url=login_url, next_label=SIGN_IN)


def _forgot_form(
    op: Context, request: Request, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    return visitor.form_page(
        op,
        request,
        "account_forgot.html",
        FORGOT_PURPOSE,
        status,
        action=op.url(FORGOT_PASSWORD_PATH),
        notice=notice,
        error=error,
        login_url=op.url("/account/login"),
    )


def _reset_form(
    op: Context,
    request: Request,
    token: str,
    *,
    errors: Mapping[str, object] | None = None,
    status: int = 200,
) -> Response:
    return visitor.form_page(
        op,
        request,
        "account_reset.html",
        RESET_PURPOSE,
        status,
        action=op.url(links.RESET_PATH),
        token=token,
        errors=errors or {},
        min_password=MIN_PASSWORD,
    )


def _dead_link(op: Context, request: Request) -> Response:
    again = op.url(FORGOT_PASSWORD_PATH)
    return visitor.link_result(op, request, DEAD_LINK, 400, next_url=again, next_label=ASK_AGAIN)
