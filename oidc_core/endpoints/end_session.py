"""RP-initiated logout: OpenID Connect RP-Initiated Logout 1.0, the end-session endpoint.

``GET`` or ``POST /end_session`` with ``id_token_hint`` (expired accepted), ``client_id``,
``post_logout_redirect_uri``, ``state``, ``ui_locales`` (the pages' language);
``logout_hint`` is accepted and ignored.  The redirect URI must be one the client
registered (exact match), the client being named by ``client_id`` or the hint's ``aud``
(both: they must agree); anything else is an error page, never a redirect (RFC 9700
section 4.11).

A request is trusted when its hint names the signed-in user (or nobody is signed in): the
session ends at once.  Otherwise (no hint, another user's hint) the user confirms on a page
whose form carries a CSRF token bound to the session and to the request's redirect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from webob import Request, Response

from .. import backchannel, responses
from ..errors import PageError
from ..interactions.browser import csrf_token, csrf_valid
from ..interactions.hint import INVALID, hint_claims
from ..params import duplicated, form_params
from ..records import BrowserSession, Client
from ..subjects import subject_for
from ..ui import locales
from ..ui.translations import N_

if TYPE_CHECKING:
    from ..context import Context

UNREGISTERED = N_("The application asked to return to an address it has not registered.")


@dataclass(frozen=True)
class LogoutRequest:
    client: Client | None
    hinted_subject: str | None
    redirect_uri: str | None
    state: str | None
    locale: str = locales.DEFAULT

    def csrf_handle(self) -> str:
        client_id = self.client.client_id if self.client else ""
        return json.dumps(["end_session", client_id, self.redirect_uri, self.state])


def end_session(op: Context, request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return op.error_page("Use GET or POST.", 405, request=request)
    pairs = form_params(
        request, op.settings.max_param_length, body=request.method == "POST", page=True
    )
    if duplicated(pairs):
        raise PageError(f"parameter {sorted(duplicated(pairs))[0][:64]!r} is repeated")
    params = dict(pairs)
    locale = locales.for_pages(request, params.get("ui_locales"))
    logout = _parse(op, params, locale)
    session = op.browser.current(request)
    if "decision" in params:  # the confirmation page's form
        return _confirmed(op, request, logout, session, params)
    if session is None or session.user_id is None or _hint_is_user(op, logout, session):
        return _sign_out(op, logout, session)
    return _confirmation_page(op, logout, session)


def _parse(op: Context, params: dict[str, str], locale: str) -> LogoutRequest:
    """Section 2: the client from ``client_id`` or the hint's ``aud``; the redirect URI
    only if that client registered it."""
    client_id = params.get("client_id") or None
    subject = None
    hint = params.get("id_token_hint")
    if hint:
        claims = hint_claims(op, hint)
        if claims is None:
            raise PageError(INVALID.replace(" to this client", ""))
        subject, audiences = claims
        if client_id is None:
            client_id = audiences[0] if len(audiences) == 1 else None
        elif client_id not in audiences:
            raise PageError("client_id does not match the id_token_hint's audience.")
    client = op.storage.clients.by_client_id(client_id) if client_id else None
    if client_id and client is None:
        raise PageError("The application is not registered.")
    redirect_uri = params.get("post_logout_redirect_uri") or None
    if redirect_uri is not None:
        if client is None:
            raise PageError("post_logout_redirect_uri needs client_id or id_token_hint.")
        if redirect_uri not in client.post_logout_redirect_uris:
            raise PageError(UNREGISTERED)
    return LogoutRequest(client, subject, redirect_uri, params.get("state") or None, locale)


def _hint_is_user(op: Context, logout: LogoutRequest, session: BrowserSession) -> bool:
    if logout.hinted_subject is None or session.user_id is None:
        return False
    user = op.storage.users.by_id(session.user_id)
    if user is None:
        return False
    # the hint's sub is as its client saw it (OIDC Core 8: pairwise for a pairwise client)
    seen = subject_for(op.storage, logout.client, user.subject) if logout.client else user.subject
    return seen == logout.hinted_subject


def _sign_out(op: Context, logout: LogoutRequest, session: BrowserSession | None) -> Response:
    if session is not None:
        backchannel.sign_out(op, session)
    if logout.redirect_uri is not None:
        response = responses.redirect(
            responses.append_params(logout.redirect_uri, [("state", logout.state)]), 303
        )
    else:
        response = _page(op, "signed_out", logout)
    op.browser.clear_cookie(response)
    return response


def _confirmation_page(op: Context, logout: LogoutRequest, session: BrowserSession) -> Response:
    return _page(op, "confirm", logout, csrf_token=csrf_token(session, logout.csrf_handle()))


def _confirmed(
    op: Context,
    request: Request,
    logout: LogoutRequest,
    session: BrowserSession | None,
    params: dict[str, str],
) -> Response:
    if request.method != "POST":
        raise PageError("Use the form to sign out.", status=405)
    if session is None or session.user_id is None:
        return _sign_out(op, logout, session)  # already signed out: nothing to protect
    if not csrf_valid(session, logout.csrf_handle(), params.get("csrf_token", "")):
        raise PageError("The form has expired. Go back and try again.", status=403)
    if params["decision"] == "sign_out":
        return _sign_out(op, logout, session)
    if params["decision"] == "stay":
        return _page(op, "stayed", logout)
    raise PageError("Choose Sign out or Stay signed in.")


def _page(
    op: Context, mode: str, logout: LogoutRequest, status: int = 200, **extra: str
) -> Response:
    return responses.html_page(
        op.render(
            "logout.html",
            locale=logout.locale,
            mode=mode,
            provider_name=op.brand.page.name,
            client=logout.client,
            client_id=logout.client.client_id if logout.client else "",
            redirect_uri=logout.redirect_uri or "",
            state=logout.state or "",
            action=op.url("/end_session"),
            **extra,
        ),
        status,
        form_redirects_to=logout.redirect_uri or "",
    )
