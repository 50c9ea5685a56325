"""Authorization endpoint: OpenID Connect Core 1.0 section 3.1.2 (code flow).

Order matters (RFC 6749 4.1.2.1): ``client_id`` and ``redirect_uri`` are validated first;
until both are, every error is a page and never a redirect.  Then the request checks run
(``oauth/checks.py``), then the interaction policy decides between the login page, the
consent page and issuing a code at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oauthlib.oauth2.rfc6749 import errors
from webob import Request, Response

from .. import responses
from ..interactions import acr, complete, consent, hint, policy
from ..mfa import policy as mfa_policy
from ..params import form_params
from ..records import BrowserSession, User
from ..subjects import subject_for
from ..ui import locales
from ..ui.translations import N_

if TYPE_CHECKING:
    from ..context import Context


def authorize(op: Context, request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return op.error_page("Use GET or POST.", 405, request=request)
    via_post = request.method == "POST"
    params = complete.known_parameters(
        form_params(request, op.settings.max_param_length, body=via_post, page=True)
    )
    form_post = complete.wants_form_post(params)
    locale = locales.for_pages(request, dict(params).get("ui_locales"))
    try:
        scopes, info = op.server.authorization.validate_authorization_request(
            complete.authorization_uri(op, params)
        )
    except errors.FatalClientError as error:
        return op.error_page(_fatal_message(error), 400, error.error, locale=locale)
    except errors.OAuth2Error as error:
        if not error.redirect_uri:
            return op.error_page(error.description, 400, error.error, locale=locale)
        return complete.oauth_error_redirect(
            op, error, via_post, form_post=form_post, locale=locale
        )

    oauth_request = info["request"]
    client = oauth_request.oidc_client
    redirect_uri, state = info["redirect_uri"], info.get("state")
    session, user, new_key = _signed_in(op, request)
    consented = user is not None and consent.covered(op, user.id, client, scopes)
    try:  # errors from here on are redirected: client_id and redirect_uri are valid
        hinted = hint.hinted_subject(op, dict(params).get("id_token_hint"), client.client_id)
        if acr.impossible(params):
            raise acr.UnmetAuthenticationRequirements()
        situation = policy.Situation(
            logged_in=user is not None,
            auth_time=session.auth_time if session else None,
            consented=consented,
            prompt=frozenset(info.get("prompt") or ()),
            max_age=policy.parse_max_age(dict(params).get("max_age")),
            other_user_hinted=hinted is not None
            and user is not None
            and hinted != subject_for(op.storage, client, user.subject),
            amr=session.amr if session else (),
            required_acr=acr.required_acr(params),
            short_of_mfa=user is not None
            and mfa_policy.short_of_policy(
                op, user, client, params, session.amr if session else ()
            ),
        )
        step = policy.next_step(situation)
    except errors.OAuth2Error as error:
        return complete.error_redirect(
            op,
            redirect_uri,
            error.error,
            error.description,
            state,
            via_post,
            form_post=form_post,
            locale=locale,
        )
    if step == policy.ISSUE and user is not None and session is not None:
        response = complete.issue_code(
            op,
            params,
            user,
            session.auth_time or 0,
            amr=session.amr,
            pending_id=None,
            remember_consent=False,
            via_post=via_post,
            sid=session.sid,
            locale=locale,
            validated=oauth_request,
        )
    else:
        response = _interaction(op, session, client.client_id, params, step)
    if new_key:
        op.browser.set_cookie(response, new_key)
    return response


def _signed_in(
    op: Context, request: Request
) -> tuple[BrowserSession | None, User | None, str | None]:
    """The browser session, its user and a new session key to set (if any).

    With host login the host's session decides: its user is signed in here too (the
    session is bound to them, with the ``amr`` and ``auth_time`` the host reports, else
    a password and now), and nobody is when the host says nobody.
    """
    session = op.browser.current(request)
    if op.accounts.host_login is None:
        user = op.storage.users.by_id(session.user_id) if session and session.user_id else None
        return session, user, None
    host = op.accounts.host_sign_in(request)
    if host is None:
        return session, None, None
    key, session = op.browser.follow_host(session, host, request, op.client_address(request))
    return session, host.user, key


def _interaction(
    op: Context,
    session: BrowserSession | None,
    client_id: str,
    params: list[tuple[str, str]],
    step: str,
) -> Response:
    """Park the request and send the browser to the login or consent page."""
    new_key = None
    if session is None:
        new_key, session = op.browser.start()
    handle = op.storage.sessions.create_pending(
        session.id, client_id, params, op.settings.interaction_ttl
    )
    page = "/login" if step == policy.LOGIN else "/consent"
    response = responses.redirect(op.url(page) + "?interaction=" + handle, 303)
    if new_key:
        op.browser.set_cookie(response, new_key)
    return response


def _fatal_message(error: errors.FatalClientError) -> str:
    if isinstance(error, errors.MissingClientIdError | errors.InvalidClientIdError):
        return N_("The application that sent you here is not registered with this provider.")
    if isinstance(error, errors.MissingRedirectURIError):
        return N_("The application did not say where to send you back (redirect_uri is missing).")
    if isinstance(error, errors.InvalidRedirectURIError | errors.MismatchingRedirectURIError):
        return N_("The application asked to send you to an address it has not registered.")
    return error.description or N_("The request is invalid.")
