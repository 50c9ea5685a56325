"""Finishing an authorization request: redirect back with a code, or with an error.

Every authorization response carries ``iss`` (RFC 9207) and the exact ``state``.  The
Location is the registered redirect URI string with parameters appended, never rebuilt
from request data.  After a POST (login, consent) the status is 303 (RFC 9700 4.12).

With ``response_mode=form_post`` (OAuth 2.0 Form Post Response Mode) the same parameters
are instead sent by a page whose form posts them to the registered URI: values are
HTML-escaped by the template, and the only script is one fixed line allowed by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from oauthlib.oauth2.rfc6749 import errors
from webob import Response

from .. import responses
from ..errors import PageError
from ..oauth.code_grant import CodeAlreadyIssued, CodeIssue
from ..records import User
from ..subjects import subject_for
from ..ui import locales
from ..ui.translations import N_
from . import acr, hint
from .pending import EXPIRED

if TYPE_CHECKING:
    from ..context import Context
    from .pending import Interaction


# The same for a suspended account and a host's refusal: the client learns no more.
ACCESS_DENIED = "the account may not use this application"
OTHER_USER = "the user who signed in is not the one id_token_hint names"

ALREADY_COMPLETED = N_(
    "This sign-in request has already been completed. Go back to the application and start again."
)
SUBMIT_SCRIPT = "document.forms[0].submit()"
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SUBMIT_SCRIPT.encode()).digest()).decode()
# No form-action: the form's one target is the registered redirect URI, whatever its origin.
FORM_POST_CSP = (
    f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; style-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def wants_form_post(params: list[tuple[str, str]]) -> bool:
    """``response_mode=form_post`` sent once (a repeated or other mode: the query)."""
    modes = [value for key, value in params if key == "response_mode"]
    return modes == ["form_post"]


def respond(
    op: Context,
    redirect_uri: str,
    params: list[tuple[str, str | None]],
    *,
    via_post: bool,
    form_post: bool = False,
    locale: str = locales.DEFAULT,
) -> Response:
    """Send ``params`` back to the (registered) ``redirect_uri`` in the response mode
    (the form_post page in ``locale``)."""
    if not form_post:
        return responses.redirect(
            responses.append_params(redirect_uri, params), 303 if via_post else 302
        )
    page = op.render(
        "form_post.html",
        locale=locale,
        action=redirect_uri,
        fields=[(k, v) for k, v in params if v is not None],
        script=SUBMIT_SCRIPT,
    )
    response = responses.html_page(page)
    response.headers["Content-Security-Policy"] = FORM_POST_CSP
    return response


def error_redirect(
    op: Context,
    redirect_uri: str,
    error: str,
    description: str | None,
    state: str | None,
    via_post: bool,
    *,
    form_post: bool = False,
    locale: str = locales.DEFAULT,
) -> Response:
    params: list[tuple[str, str | None]] = [("error", error)]
    if description:
        params.append(("error_description", description))
    params += [("state", state), ("iss", op.settings.issuer)]
    return respond(op, redirect_uri, params, via_post=via_post, form_post=form_post, locale=locale)


def oauth_error_redirect(
    op: Context,
    error: errors.OAuth2Error,
    via_post: bool,
    *,
    form_post: bool = False,
    locale: str = locales.DEFAULT,
) -> Response:
    """An oauthlib error raised after client_id and redirect_uri were validated."""
    return error_redirect(
        op,
        error.redirect_uri,
        error.error,
        error.description,
        error.state,
        via_post,
        form_post=form_post,
        locale=locale,
    )


# The parameters an authorization request may carry (OIDC Core 3.1.2.1, RFC 7636);
# only these are kept with a pending request, the rest is ignored as the spec asks.
AUTHORIZATION_PARAMETERS = frozenset(
    {
        "client_id",
        "response_type",
        "scope",
        "redirect_uri",
        "state",
        "nonce",
        "response_mode",
        "prompt",
        "max_age",
        "display",
        "ui_locales",
        "claims_locales",
        "id_token_hint",
        "login_hint",
        "acr_values",
        "claims",
        "code_challenge",
        "code_challenge_method",
        "request",
        "request_uri",
    }
)


def finish_with_error(
    op: Context, interaction: Interaction, error: str, description: str, *, via_post: bool
) -> Response:
    """End the pending request with ``error``, redirected to its redirect URI (if its
    client still has it registered)."""
    params = dict(interaction.pending.params)
    if not op.storage.sessions.finish_pending(interaction.pending.id):
        raise PageError(EXPIRED)
    return error_redirect(
        op,
        interaction.client_redirect_uri(params["redirect_uri"]),
        error,
        description,
        params.get("state"),
        via_post,
        form_post=wants_form_post(interaction.pending.params),
        locale=interaction.locale,
    )


def known_parameters(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(key, value) for key, value in params if key in AUTHORIZATION_PARAMETERS]


def authorization_uri(op: Context, params: list[tuple[str, str]]) -> str:
    return op.url("/authorize") + "?" + urlencode(params)


def hint_refusal(
    op: Context, params: list[tuple[str, str]], user: User, client: Any
) -> tuple[str, str] | None:
    """(error, description) when the request's ``id_token_hint`` names someone other than
    the signed-in ``user``; None otherwise.  OIDC Core 3.1.2.1: the hinted user must be
    the one logged in, or logged in by the request; the login page shown for a hint that
    another account then signs in to ends with ``login_required``."""
    try:
        hinted = hint.hinted_subject(op, dict(params).get("id_token_hint"), client.client_id)
    except errors.OAuth2Error as error:  # the hint's key retired while the user signed in
        return error.error, error.description
    if hinted is not None and hinted != subject_for(op.storage, client, user.subject):
        return "login_required", OTHER_USER
    return None


def _refusal(
    op: Context, params: list[tuple[str, str]], user: User, client: Any, amr: Sequence[str]
) -> tuple[str, str] | None:
    """Why the signed-in ``user`` gets no code for ``params`` (error, description), if so:
    an essential ``acr`` the sign-in does not reach, or :func:`hint_refusal`."""
    if acr.unmet(params, amr):
        return acr.UNMET, acr.UnmetAuthenticationRequirements.description
    return hint_refusal(op, params, user, client)


def issue_code(
    op: Context,
    params: list[tuple[str, str]],
    user: User,
    auth_time: int,
    *,
    amr: Sequence[str],
    pending_id: int | None,
    remember_consent: bool,
    via_post: bool,
    sid: str | None = None,
    locale: str = locales.DEFAULT,
    validated: Any = None,
) -> Response:
    """Store a code for the authorization request ``params`` and redirect back with it
    (``locale``: the language of a form_post or error page on the way).  ``amr`` is how
    the user signed in (RFC 8176): the code keeps it and the ``acr`` it reached; an
    essential ``acr`` it does not reach fails the request (:func:`.acr.unmet`), and so
    does an ``id_token_hint`` naming another user (:func:`hint_refusal`).

    ``validated`` is oauthlib's request when the caller has just validated ``params``
    (/authorize); a parked request (after login or consent) is validated again here, once:
    its client may have changed meanwhile.  Every code is issued here, so here the account
    is asked whether it may use the client (:meth:`~oidc_core.accounts.Accounts.may_use`:
    active, and the host's ``client_access`` rule): if not, ``access_denied``."""
    redirect_uri = dict(params)["redirect_uri"]
    state = dict(params).get("state")
    form_post = wants_form_post(params)
    if validated is None:
        try:
            _, info = op.server.authorization.validate_authorization_request(
                authorization_uri(op, params)
            )
        except errors.FatalClientError as error:
            return op.error_page(error.description, 400, error.error, locale=locale)
        except errors.OAuth2Error as error:  # on the registered URI, with iss like the rest
            failed = (error.error, error.description, state, via_post)
            return error_redirect(op, redirect_uri, *failed, form_post=form_post, locale=locale)
        validated = info["request"]
    if not op.accounts.may_use(user, validated.oidc_client):
        denied = ("access_denied", ACCESS_DENIED, state, via_post)
        return error_redirect(op, redirect_uri, *denied, form_post=form_post, locale=locale)
    refusal = _refusal(op, params, user, validated.oidc_client, amr)
    if refusal is not None:
        if pending_id is not None and not op.storage.sessions.finish_pending(pending_id):
            return op.error_page(ALREADY_COMPLETED, 400, locale=locale)
        refused = (*refusal, state, via_post)
        return error_redirect(op, redirect_uri, *refused, form_post=form_post, locale=locale)
    issue = CodeIssue(
        user=user,
        auth_time=auth_time,
        pending_id=pending_id,
        remember_consent=remember_consent,
        sid=sid,
        amr=tuple(amr),
        acr=acr.stated_acr(params, amr),
    )
    try:
        code = op.server.codes.issue_code(validated, issue)
    except CodeAlreadyIssued:
        return op.error_page(ALREADY_COMPLETED, 400, locale=locale)
    return respond(
        op,
        redirect_uri,
        [("code", code), ("state", state), ("iss", op.settings.issuer)],
        via_post=via_post,
        form_post=form_post,
        locale=locale,
    )
