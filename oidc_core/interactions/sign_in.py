"""Signing in with a password and out again: what the login page, the account pages and
the admin console share.

The account pages (``/account/``) and the console (``/admin/``) each have a front door
(:func:`front_door`: the bare path, ``login`` and ``logout``), a sign-in form
(:func:`login_form`, posted to :func:`log_in`) and a sign-out (:func:`sign_out`).  The
login page of an authorization request and both sign-in forms check a password the same
way (:func:`check_password`): unknown email and wrong password get the same answer, 401,
and a locked attempt the same with 429 and ``Retry-After`` (:mod:`oidc_core.throttle`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from .. import authn, backchannel, responses
from ..params import first, posted_form, single
from ..records import BrowserSession, User
from ..throttle import Throttled
from . import passkey_sign_in
from .browser import EXPIRED_FORM, csrf_token, csrf_valid

if TYPE_CHECKING:
    from ..context import Context

Handler = Callable[["Context", Request], Response]
# The form shown again after a failed sign-in: (email as typed, status) -> the page.
Refusal = Callable[[str, int], Response]
# Where a sign-in form's "Forgot password?" leads (``oidc_core.account.recovery``).
FORGOT_PASSWORD_PATH = "/account/forgot-password"  # noqa: S105 - a path, no password


def front_door(
    op: Context, request: Request, area: str, login: Handler, logout: Handler
) -> Response | None:
    """The answer at ``area`` (a 303 to ``area/``), ``area/login`` and ``area/logout``;
    None for every other path (a page of the area)."""
    path = request.path_info
    if path == area:
        return responses.redirect(op.url(area + "/"), 303)
    if path == area + "/login":
        return login(op, request)
    if path == area + "/logout":
        return logout(op, request)
    return None


def check_password(
    op: Context,
    fields: dict[str, list[str]],
    address: str,
    refuse: Refusal,
    log: logging.Logger,
    failure: str,
) -> User | Response:
    """The user whose ``email`` and ``password`` the posted ``fields`` hold, or the
    refusal: 429 with ``Retry-After`` while locked, else 401 (``failure`` is logged at
    INFO on ``log`` with the address)."""
    email = first(fields, "email").strip()
    try:
        user = op.accounts.authenticate(email, first(fields, "password"), address=address)
    except Throttled as locked:
        response = refuse(email, 429)
        response.headers["Retry-After"] = str(locked.retry_after)
        return response
    if user is None:
        log.info(failure, address)
        return refuse(email, 401)
    return user


def log_in(
    op: Context,
    request: Request,
    session: BrowserSession,
    fields: dict[str, list[str]],
    refuse: Refusal,
    then: str,
    log: logging.Logger,
    failure: str,
) -> Response:
    """A sign-in form's POST (its CSRF token already checked): the password checked as by
    :func:`check_password`, then the session bound to the user under a new key and a 303
    to our path ``then``, never to an address taken from the request."""
    user = check_password(op, fields, op.client_address(request), refuse, log, failure)
    if isinstance(user, Response):
        return user
    return enter(op, request, session, user, then)


def enter(
    op: Context,
    request: Request,
    session: BrowserSession,
    user: User,
    then: str,
    amr: Sequence[str] = (authn.KNOWLEDGE,),
) -> Response:
    """Bind ``session`` to ``user``, signed in by ``amr``, under a new key, and go to our
    path ``then``."""
    key = op.browser.log_in(session, user.id, request, op.client_address(request), amr)
    response = responses.redirect(op.url(then), 303)
    op.browser.set_cookie(response, key)
    return response


def login_form(
    op: Context,
    session: BrowserSession | None,
    template: str,
    purpose: str,
    status: int,
    passkeys: bool = False,
    **context: Any,
) -> Response:
    """A sign-in form with its CSRF token for ``purpose``; a browser without a session
    gets a new one (its cookie is set on the response).  ``passkeys``: the page offers
    signing in with a passkey, where they are available (:mod:`.passkey_sign_in`)."""
    key = None
    if session is None:
        key, session = op.browser.start()
    context.setdefault("forgot_url", forgot_url(op))
    offer = passkey_sign_in.page_context(op, session) if passkeys else {}
    page = op.render(template, csrf_token=csrf_token(session, purpose), **offer, **context)
    response = responses.html_page(page, status, scripts=bool(offer.get("passkey_options_url")))
    if key is not None:
        op.browser.set_cookie(response, key)
    return response


def forgot_url(op: Context) -> str:
    """The "Forgot password?" link of a sign-in form; "" with a host's accounts (their
    passwords are reset at the host)."""
    return op.url(FORGOT_PASSWORD_PATH) if op.accounts.builtin else ""


def sign_out(
    op: Context, request: Request, purpose: str, then: str, page_request: Request | None
) -> Response:
    """End this browser session (its POST checked against the CSRF token for ``purpose``,
    its apps told by back-channel logout) and go to ``then``.  ``page_request``: the
    request whose language an error page follows (None: English)."""
    if request.method != "POST":
        return op.error_page("Use the Sign out button.", 405, request=page_request)
    session = op.browser.current(request)
    if session is not None:
        form = posted_form(request, op.settings.max_body_bytes)
        if not csrf_valid(session, purpose, single(form, "csrf_token")):
            return op.error_page(EXPIRED_FORM, 403, request=page_request)
        backchannel.sign_out(op, session)
    response = responses.redirect(op.url(then), 303)
    op.browser.clear_cookie(response)
    return response
