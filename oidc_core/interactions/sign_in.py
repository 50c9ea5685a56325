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
from ..mfa import step
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
    op: Context,
    request: Request,
    area: str,
    login: Handler,
    logout: Handler,
    second_factor: Handler,
) -> Response | None:
    """The answer at ``area`` (a 303 to ``area/``), ``area/login``, its second step
    ``area/login/second-factor`` and ``area/logout``; None for every other path (a page
    of the area)."""
    path = request.path_info
    if path == area:
        return responses.redirect(op.url(area + "/"), 303)
    if path == area + "/login":
        return login(op, request)
    if path == area + "/login/second-factor":
        return second_factor(op, request)
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
    area: str,
    log: logging.Logger,
    failure: str,
    locale: str | None = None,
) -> Response:
    """A sign-in form's POST (its CSRF token already checked): the password checked as by
    :func:`check_password`, then the second factor's page when the user needs one
    (:mod:`oidc_core.mfa.step`, its forms posted to ``area/login/second-factor``), else
    the session bound to the user under a new key and a 303 to the area's first page,
    never to an address taken from the request."""
    address = op.client_address(request)
    user = check_password(op, fields, address, refuse, log, failure)
    if isinstance(user, Response):
        return user
    place = area_place(op, request, session, area, locale)
    second_step = step.begin(op, request, session, user, place)
    return second_step or signed_in_to(op, request, session, user.id, (authn.KNOWLEDGE,), area)


def second_factor_page(op: Context, request: Request, area: str, locale: str | None) -> Response:
    """``area/login/second-factor``: the second step of the area's sign-in, its POST
    checked against the step's own CSRF token (a 403 page without it)."""
    session = op.browser.current(request)
    form: dict[str, list[str]] = {}
    if request.method == "POST" and session is not None:
        form = posted_form(request, op.settings.max_body_bytes)
        if not csrf_valid(session, _step_purpose(area), single(form, "csrf_token")):
            return op.error_page(EXPIRED_FORM, 403, request=request, locale=locale)
    elif request.method not in ("GET", "POST"):
        return op.error_page("Use GET or POST.", 405, request=request, locale=locale)
    return step.page(op, request, session, form, area_place(op, request, session, area, locale))


def area_place(
    op: Context, request: Request, session: BrowserSession | None, area: str, locale: str | None
) -> step.SignInPlace:
    """The second-factor step of the sign-in to ``area`` (``/account``, ``/admin``)."""

    def finish(session: BrowserSession, user: User, amr: Sequence[str]) -> Response:
        return signed_in_to(op, request, session, user.id, amr, area)

    return step.SignInPlace(
        action=op.url(area + "/login/second-factor"),
        csrf_token=csrf_token(session, _step_purpose(area)) if session else "",
        start_over=op.url(area + "/login"),
        finish=finish,
        locale=locale,
        request=request,
        passkey_offer=(lambda: passkey_sign_in.page_context(op, session)) if session else None,
    )


def _step_purpose(area: str) -> str:
    return area.strip("/") + "-second-factor"


def signed_in_to(
    op: Context,
    request: Request,
    session: BrowserSession,
    user_id: int,
    amr: Sequence[str],
    area: str,
) -> Response:
    """Bind the session to the user under a new key; a 303 to the area's first page."""
    key = op.browser.log_in(session, user_id, request, op.client_address(request), amr)
    response = responses.redirect(op.url(area + "/"), 303)
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
