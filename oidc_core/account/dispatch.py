"""Who may see the account pages under ``/account/`` (``docs/account.md``), and signing in.

Every request is checked here before a page runs: without a signed-in user the answer is
a 303 to ``/account/login`` (or, with host login and ``host_login_url``, to the host's
login page with ``next`` set to ``/account/``); a POST without this session's CSRF token
gets 403 and changes nothing.  Signing in replaces the session key and always continues
at ``/account/``, never at an address taken from the request.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses, routing
from ..errors import PageError
from ..interactions import passkey_sign_in, sign_in
from ..interactions.browser import EXPIRED_FORM, checked_form, csrf_valid
from ..interactions.login import GENERIC_FAILURE, with_next
from ..mfa.passkeys import MAX_RESPONSE
from ..params import posted_form, single
from ..records import BrowserSession, User
from ..routing import PageHandler, Route
from ..ui.translations import N_
from . import apps, links, passkeys, profile, recovery, security, sessions, verification
from .request import CSRF_PURPOSE, AccountRequest

if TYPE_CHECKING:
    from ..context import Context

log = logging.getLogger(__name__)

GET = frozenset({"GET"})
POST = frozenset({"POST"})
GET_POST = frozenset({"GET", "POST"})

# path pattern -> (methods, page); named groups are passed to the page as arguments.
ROUTES: tuple[Route, ...] = (
    (re.compile(r"/account/"), GET, apps.connected_apps),
    (re.compile(r"/account/apps/(?P<client_id>[^/]{1,128})/revoke"), POST, apps.revoke),
    (re.compile(r"/account/sessions"), GET, sessions.session_list),
    (re.compile(r"/account/sessions/(?P<session_id>[0-9]{1,18})/end"), POST, sessions.end_one),
    (re.compile(r"/account/sessions/end-all"), POST, sessions.end_all),
    (re.compile(r"/account/profile"), GET_POST, profile.profile),
    (re.compile(r"/account/password"), POST, profile.change_password),
    (re.compile(r"/account/passkeys"), GET, passkeys.passkey_list),
    (re.compile(r"/account/passkeys/options"), POST, passkeys.options),
    (re.compile(r"/account/passkeys/add"), POST, passkeys.add),
    (re.compile(r"/account/passkeys/(?P<passkey_id>[0-9]{1,18})/rename"), POST, passkeys.rename),
    (re.compile(r"/account/passkeys/(?P<passkey_id>[0-9]{1,18})/remove"), POST, passkeys.remove),
    (re.compile(r"/account/email"), POST, verification.change_email),
    (re.compile(r"/account/email/send-link"), POST, verification.send_link_again),
    (re.compile(r"/account/security"), GET, security.security),
    (re.compile(r"/account/security/totp"), POST, security.start_totp),
    (re.compile(r"/account/security/totp/confirm"), POST, security.confirm_totp),
    (re.compile(r"/account/security/totp/remove"), POST, security.remove_totp),
    (re.compile(r"/account/security/recovery-codes"), POST, security.new_recovery_codes),
)
# Pages for visitors who are not signed in: the links sent by email.
VISITOR_PAGES: dict[str, sign_in.Handler] = {
    sign_in.FORGOT_PASSWORD_PATH: recovery.forgot_password,
    links.RESET_PATH: recovery.reset_password,
    links.VERIFY_PATH: verification.verify_email,
}

LOGIN_PURPOSE = "account-login"
# A host's signed-in user whose account here is suspended or closed.
ACCOUNT_NOT_ACTIVE = N_("This account cannot be used at the moment.")


def dispatch(op: Context, request: Request) -> Response:
    door = sign_in.front_door(op, request, "/account", login, logout, second_factor)
    if door is not None:
        return door
    visitor_page = VISITOR_PAGES.get(request.path_info)
    if visitor_page is not None:
        if request.method not in GET_POST:
            return op.error_page("Use GET or POST.", 405, request=request)
        return visitor_page(op, request)
    route = routing.match(ROUTES, request.path_info)
    if route is None:
        return op.error_page("There is nothing at this address.", 404, request=request)
    match, methods, page = route
    session, user, new_key = signed_in(op, request)
    if session is None or user is None:
        return _to_sign_in(op)
    response = _run(op, request, session, user, methods, page, match.groupdict())
    if new_key is not None:
        op.browser.set_cookie(response, new_key)
    return response


def _run(
    op: Context,
    request: Request,
    session: BrowserSession,
    user: User,
    methods: frozenset[str],
    page: PageHandler,
    arguments: dict[str, str],
) -> Response:
    form = checked_form(request, session, CSRF_PURPOSE, methods, op.settings.max_body_bytes)
    return page(AccountRequest(op, request, session, user, form), **arguments)


def signed_in(
    op: Context, request: Request
) -> tuple[BrowserSession | None, User | None, str | None]:
    """The browser session, its signed-in user, and a new session key to set (or None).

    With host login the host's signed-in user counts (the session is bound to them, under
    a new key, if it is not yet); without a host user, the provider's own sign-in counts
    unless the host has a login page of its own (``host_login_url``)."""
    session = op.browser.current(request)
    if op.accounts.host_login is not None:
        host = op.accounts.host_sign_in(request)
        if host is not None:
            if not op.accounts.active(host.user):  # signed in to the host, suspended here
                raise PageError(ACCOUNT_NOT_ACTIVE, status=403)
            address = op.client_address(request)
            key, session = op.browser.follow_host(session, host, request, address)
            return session, host.user, key
        if op.settings.host_login_url:
            return session, None, None
    if session is None or session.user_id is None:
        return session, None, None
    user = op.storage.users.by_id(session.user_id)
    if user is None or op.accounts.account_of(user) is None:
        return session, None, None
    return session, user, None


def _to_sign_in(op: Context) -> Response:
    if op.accounts.host_login is not None and op.settings.host_login_url:
        back = op.url("/account/")  # fixed: never an address taken from the request
        return responses.redirect(with_next(op.site_url(op.settings.host_login_url), back), 303)
    return responses.redirect(op.url("/account/login"), 303)


def login(op: Context, request: Request) -> Response:
    """The sign-in form; on success the session is bound to the user under a new key."""
    if request.method == "GET":
        session, user, key = signed_in(op, request)
        if user is not None:
            response = responses.redirect(op.url("/account/"), 303)
            if key is not None:
                op.browser.set_cookie(response, key)
            return response
        if op.accounts.host_login is not None and op.settings.host_login_url:
            return _to_sign_in(op)
        return _login_form(op, request, session)
    if request.method != "POST":
        return op.error_page("Use GET or POST.", 405, request=request)
    session = op.browser.current(request)
    fields = posted_form(request, max(op.settings.password_max_length + 64, MAX_RESPONSE))
    if session is None or not csrf_valid(session, LOGIN_PURPOSE, single(fields, "csrf_token")):
        # The browser keeps its session: a forged sign-in must not sign the user out.
        return _login_form(op, request, session, error=EXPIRED_FORM, status=403)
    if passkey_sign_in.wanted(fields):

        def refuse_passkey(status: int) -> Response:
            return _login_form(op, request, session, error=passkey_sign_in.FAILED, status=status)

        checked = passkey_sign_in.check(op, request, session, fields, refuse_passkey)
        if isinstance(checked, Response):
            return checked
        user, amr = checked
        return sign_in.signed_in_to(op, request, session, user.id, amr, "/account")

    def refuse(email: str, status: int) -> Response:
        return _login_form(op, request, session, email=email, error=GENERIC_FAILURE, status=status)

    failure = "account sign-in failed from %s"
    return sign_in.log_in(op, request, session, fields, refuse, "/account", log, failure)


def second_factor(op: Context, request: Request) -> Response:
    """The sign-in's second step (:mod:`oidc_core.mfa.step`)."""
    return sign_in.second_factor_page(op, request, "/account", None)


def logout(op: Context, request: Request) -> Response:
    """End this browser session (CSRF-checked, with back-channel logout); to sign-in."""
    return sign_in.sign_out(op, request, CSRF_PURPOSE, "/account/login", page_request=request)


def _login_form(
    op: Context,
    request: Request,
    session: BrowserSession | None,
    *,
    email: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    return sign_in.login_form(
        op,
        session,
        "account_login.html",
        LOGIN_PURPOSE,
        status,
        passkeys=True,
        request=request,
        action=op.url("/account/login"),
        email=email,
        error=error,
    )
