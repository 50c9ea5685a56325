"""The bundled consent page: the app's name, logo and URL, the scopes; allow or deny.

The form submits ``decision=allow`` or ``decision=deny``; "Not you?" leads to the login
page of the same request, where another account can sign in.  Only the pending request is
authorized: client, redirect URI and scopes come from storage, never from the form.  A
session without the second factor the MFA policy requires (:mod:`oidc_core.mfa.policy`)
is sent to the login page, as the authorization endpoint does: a request parked for the
login page cannot be completed here instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses
from ..claims import SCOPE_DESCRIPTIONS
from ..errors import PageError
from ..mfa import policy as mfa_policy
from ..params import posted_form, query_form, single
from ..records import Client, User
from . import complete, pending
from .browser import csrf_token

ANOTHER_ACCOUNT = "another"  # the login page's query parameter: the form starts empty

if TYPE_CHECKING:
    from ..context import Context


def covered(op: Context, user_id: int, client: Client, scopes: Iterable[str]) -> bool:
    """The client needs no consent page (``skip_consent``, an administrator's choice) or
    the user's live (unexpired) consent covers every scope requested."""
    return client.skip_consent or set(scopes) <= op.storage.grants.consented_scopes(
        user_id, client.id
    )


def consent(op: Context, request: Request) -> Response:
    if request.method == "GET":
        query = query_form(request, op.settings.max_param_length)
        interaction = pending.load(op, request, single(query, "interaction"))
        user = _user(op, interaction)
        if _short_of_policy(op, interaction, user):
            return _to_login(op, interaction)
        logo_url = op.site_url(interaction.client.logo_uri)
        return responses.html_page(
            op.render(
                "consent.html",
                locale=interaction.locale,
                client=interaction.client,
                signed_in_as=op.accounts.actor(user),
                logo_url=logo_url,
                scopes=interaction.scopes,
                scope_descriptions=SCOPE_DESCRIPTIONS,
                interaction=interaction.pending.handle,
                csrf_token=csrf_token(interaction.session, interaction.pending.handle),
                action=op.url("/consent"),
                switch_url=_switch_url(op, interaction),
                sign_out_url=op.url("/end_session"),
            ),
            form_redirects_to=dict(interaction.pending.params).get("redirect_uri", ""),
            images_from=[logo_url],
        )
    if request.method != "POST":
        return op.error_page("Use GET or POST.", 405, request=request)
    fields = posted_form(request, op.settings.max_param_length)
    interaction = pending.load(
        op, request, single(fields, "interaction"), csrf=single(fields, "csrf_token")
    )
    user = _user(op, interaction)
    decision = single(fields, "decision")
    if decision == "allow" and _short_of_policy(op, interaction, user):
        return _to_login(op, interaction)
    if decision == "allow":
        return complete.issue_code(
            op,
            interaction.pending.params,
            user,
            interaction.session.auth_time or 0,
            amr=interaction.session.amr,
            pending_id=interaction.pending.id,
            remember_consent=True,
            via_post=True,
            sid=interaction.session.sid,
            locale=interaction.locale,
        )
    if decision == "deny":
        return complete.finish_with_error(
            op, interaction, "access_denied", "The user denied the request", via_post=True
        )
    raise PageError("Choose Allow or Deny.")


def _user(op: Context, interaction: pending.Interaction) -> User:
    user_id = interaction.session.user_id
    user = op.storage.users.by_id(user_id) if user_id is not None else None
    if user is None:
        raise PageError(pending.EXPIRED)
    return user


def _short_of_policy(op: Context, interaction: pending.Interaction, user: User) -> bool:
    """The session lacks the second factor the MFA policy requires for this request (the
    authorization endpoint sent it to the login page, not here)."""
    params = interaction.pending.params
    amr = interaction.session.amr
    return mfa_policy.short_of_policy(op, user, interaction.client, params, amr)


def _switch_url(op: Context, interaction: pending.Interaction) -> str:
    """ "Not you? Use another account": the login page of the same pending request.  The
    session stays signed in until another account signs in there (the session is then bound
    to it under a new key and ``sid``); nothing changes by following the link.  Empty with
    a host login: the host decides who is signed in, and our login page would sign the
    same person in again and come back here.  The login form it opens is empty: the
    request's ``login_hint`` named the account signed in already."""
    if op.accounts.host_login is not None:
        return ""
    return _login_url(op, interaction) + "&" + ANOTHER_ACCOUNT + "=1"


def _login_url(op: Context, interaction: pending.Interaction) -> str:
    """The login page of the same pending request."""
    return op.url("/login") + "?interaction=" + interaction.pending.handle


def _to_login(op: Context, interaction: pending.Interaction) -> Response:
    return responses.redirect(_login_url(op, interaction), 303)
