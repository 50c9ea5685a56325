"""The admin console (HTML, bundled) under ``/admin/`` (``docs/administration.md``).

Every request is checked here before a page runs: without a signed-in browser session the
answer is a 303 to the sign-in page, and so it is for an administrator's session without
the second factor the MFA policy requires of them (:mod:`oidc_core.mfa.policy`: a session
made before they enrolled one or before the policy changed); a user without the admin flag
gets 403; a POST without this session's CSRF token gets 403 and changes nothing.  Sign-in
failures count on the same counters as the login page's (:mod:`oidc_core.throttle`).
Signing in replaces the session key (session fixation) and always continues at
``/admin/``, never at an address taken from the request.  The pages themselves are in
:mod:`oidc_core.admin.console_pages`.  Every page, the sign-in and error pages included,
speaks the browser's language (``Accept-Language``) as the account pages do
(``docs/translations.md``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses, routing
from ..errors import PageError
from ..interactions import sign_in
from ..interactions.browser import EXPIRED_FORM, checked_form, csrf_token, csrf_valid
from ..interactions.login import GENERIC_FAILURE
from ..mfa import policy as mfa_policy
from ..params import posted_form, single
from ..records import BrowserSession, User
from ..routing import Route
from ..ui.translations import N_
from . import console_pages as pages
from . import console_tokens, console_users
from .console_pages import CSRF_PURPOSE, AdminRequest

if TYPE_CHECKING:
    from ..context import Context

log = logging.getLogger(__name__)

GET = frozenset({"GET"})
GET_POST = frozenset({"GET", "POST"})
POST = frozenset({"POST"})
_CLIENT = r"/admin/clients/(?P<client_id>[^/]{1,128})"
_USER = r"/admin/users/(?P<subject>[^/]{1,64})"

# path pattern -> (methods, page); named groups are passed to the page as arguments.
ROUTES: tuple[Route, ...] = (
    (re.compile(r"/admin/"), GET, pages.client_list),
    (re.compile(r"/admin/clients/new"), GET_POST, pages.client_new),
    (re.compile(_CLIENT), GET_POST, pages.client_edit),
    (re.compile(_CLIENT + r"/secret"), GET, pages.client_secret),
    (re.compile(_CLIENT + r"/reset-secret"), GET_POST, pages.reset_secret),
    (re.compile(_CLIENT + r"/delete"), GET_POST, pages.delete_client),
    (re.compile(r"/admin/audit"), GET, pages.audit_log),
    (re.compile(r"/admin/registration-tokens"), GET_POST, console_tokens.registration_tokens),
    (re.compile(r"/admin/registration-tokens/issued"), GET, console_tokens.issued),
    (
        re.compile(r"/admin/registration-tokens/(?P<token_id>[0-9]{1,18})/revoke"),
        POST,
        console_tokens.revoke,
    ),
    (re.compile(r"/admin/users"), GET, console_users.user_list),
    (re.compile(_USER), GET, console_users.user_page),
    (re.compile(_USER + r"/status"), POST, console_users.change_status),
)

LOGIN_PURPOSE = "admin-login"
NOT_FOUND = N_("There is nothing at this address.")


def dispatch(op: Context, request: Request) -> Response:
    door = sign_in.front_door(op, request, "/admin", login, logout, second_factor)
    if door is not None:
        return door
    route = routing.match(ROUTES, request.path_info)
    session = op.browser.current(request)
    user = _user(op, session)
    if session is None or user is None or not op.accounts.is_admin(user):
        if route is None:  # a stranger learns nothing of the console from its 404
            return op.error_page(NOT_FOUND, 404, request=request)
        if session is None or user is None:
            return responses.redirect(op.url("/admin/login"), 303)
        return _forbidden(op, request, session, user)
    if _short_of_policy(op, session, user):  # sign in again: password and second step
        return responses.redirect(op.url("/admin/login"), 303)
    admin = AdminRequest(op, request, session, user, {})
    try:
        if route is None:
            raise PageError(NOT_FOUND, status=404, error="")
        match, methods, page = route
        form = checked_form(request, session, CSRF_PURPOSE, methods, op.settings.max_body_bytes)
        return page(dataclasses.replace(admin, form=form), **match.groupdict())
    except PageError as error:  # shown in the console's frame, with its navigation
        return admin.error_page(error)


def login(op: Context, request: Request) -> Response:
    """The sign-in form; on success the session is bound to the user under a new key."""
    session = op.browser.current(request)
    if request.method == "GET":
        user = _user(op, session)
        if session is not None and user is not None and op.accounts.is_admin(user):
            if not _short_of_policy(op, session, user):
                return responses.redirect(op.url("/admin/"), 303)
            return _login_form(op, request, session, second_step_needed=True)
        return _login_form(op, request, session, signed_in_as=user)
    if request.method != "POST":
        return op.error_page("Use GET or POST.", 405, request=request)
    fields = posted_form(request, op.settings.password_max_length + 64)
    if session is None or not csrf_valid(session, LOGIN_PURPOSE, single(fields, "csrf_token")):
        # The browser keeps its session: a forged sign-in must not sign an administrator out.
        return _login_form(op, request, session, error=EXPIRED_FORM, status=403)

    def refuse(email: str, status: int) -> Response:
        return _login_form(op, request, session, email=email, error=GENERIC_FAILURE, status=status)

    failure = "admin console sign-in failed from %s"
    return sign_in.log_in(op, request, session, fields, refuse, "/admin", log, failure)


def second_factor(op: Context, request: Request) -> Response:
    """The sign-in's second step (:mod:`oidc_core.mfa.step`), in the browser's language."""
    return sign_in.second_factor_page(op, request, "/admin", None)


def logout(op: Context, request: Request) -> Response:
    """End the browser session (CSRF-checked) and return to the sign-in page."""
    return sign_in.sign_out(op, request, CSRF_PURPOSE, "/admin/login", page_request=request)


def _user(op: Context, session: BrowserSession | None) -> User | None:
    if session is None or session.user_id is None:
        return None
    return op.storage.users.by_id(session.user_id)


def _short_of_policy(op: Context, session: BrowserSession, user: User) -> bool:
    """An administrator's session without the second factor they must use: they have one
    (enrolled after this session signed in, maybe elsewhere), or ``require_mfa`` or
    ``require_mfa_for_admins`` demands one (set after it signed in; a host's session)."""
    return mfa_policy.short_of_policy(op, user, None, (), session.amr)


def _login_form(
    op: Context,
    request: Request,
    session: BrowserSession | None,
    *,
    email: str = "",
    error: str = "",
    status: int = 200,
    signed_in_as: User | None = None,
    second_step_needed: bool = False,
) -> Response:
    return sign_in.login_form(
        op,
        session,
        "admin_login.html",
        LOGIN_PURPOSE,
        status,
        request=request,
        action=op.url("/admin/login"),
        email=email,
        error=error,
        signed_in_as=op.accounts.actor(signed_in_as) if signed_in_as else "",
        second_step_needed=second_step_needed,
    )


def _forbidden(op: Context, request: Request, session: BrowserSession, user: User) -> Response:
    page = op.render(
        "admin_forbidden.html",
        request=request,
        user_name=op.accounts.actor(user),
        csrf_token=csrf_token(session, CSRF_PURPOSE),
        logout_url=op.url("/admin/logout"),
        login_url=op.url("/admin/login"),
    )
    return responses.html_page(page, 403)
