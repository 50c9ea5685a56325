"""The bundled login page: email and password (form fields ``email``, ``password``), or
a passkey where they are available (field ``passkey``, :mod:`.passkey_sign_in`).

Unknown email and wrong password get the same answer after the same amount of work.
Failed attempts are counted (:mod:`oidc_core.throttle`); a locked attempt gets the same
message with status 429 and ``Retry-After``.  The session key and CSRF secret are
replaced at login.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from webob import Request, Response

from .. import authn, responses
from ..mfa import policy as mfa_policy
from ..mfa import step
from ..mfa.passkeys import MAX_RESPONSE
from ..params import posted_form, query_form, single
from ..records import BrowserSession, User
from ..ui.translations import N_
from . import acr, complete, consent, host_step_up, passkey_sign_in, pending, policy, sign_in
from .browser import csrf_token

if TYPE_CHECKING:
    from ..accounts import HostSignIn
    from ..context import Context

log = logging.getLogger(__name__)

GENERIC_FAILURE = N_("The email address or password is not correct.")


def login(op: Context, request: Request) -> Response:
    if request.method == "GET":
        handle = single(query_form(request, op.settings.max_param_length), "interaction")
        interaction = pending.load(op, request, handle)
        if op.accounts.host_login is not None:
            host = op.accounts.host_sign_in(request)
            if host is not None:  # signed in to the host: no second login, unless asked
                return _host_signed_in(op, request, interaction, host)
            if op.settings.host_login_url:
                back = op.url("/login") + "?" + urlencode({"interaction": handle})
                # A path is made absolute against the issuer, never left for WebOb to
                # complete from the request's Host header.
                host_login = op.site_url(op.settings.host_login_url)
                return responses.redirect(with_next(host_login, back), 303)
        hint = dict(interaction.pending.params).get("login_hint", "")
        another = single(query_form(request, op.settings.max_param_length), consent.ANOTHER_ACCOUNT)
        return _form(op, interaction, email=hint if "@" in hint and not another else "")
    if request.method != "POST":
        return op.error_page("Use GET or POST.", 405, request=request)
    fields = posted_form(request, max(op.settings.password_max_length + 64, MAX_RESPONSE))
    interaction = pending.load(
        op, request, single(fields, "interaction"), csrf=single(fields, "csrf_token")
    )

    def refuse(email: str, status: int) -> Response:
        return _form(op, interaction, email=email, error=GENERIC_FAILURE, status=status)

    def refuse_passkey(status: int) -> Response:
        return _form(op, interaction, error=passkey_sign_in.FAILED, status=status)

    if passkey_sign_in.wanted(fields):
        checked = passkey_sign_in.check(op, request, interaction.session, fields, refuse_passkey)
        if isinstance(checked, Response):
            return checked
        return _logged_in(op, request, interaction, *checked)

    address = op.client_address(request)
    user = sign_in.check_password(op, fields, address, refuse, log, "login failed from %s")
    if isinstance(user, Response):
        return user
    second_step = step.begin(
        op,
        request,
        interaction.session,
        user,
        second_factor_place(op, request, interaction),
        interaction.client,
        interaction.pending.params,
    )
    return second_step or _logged_in(op, request, interaction, user)


def second_factor_place(
    op: Context, request: Request, interaction: pending.Interaction
) -> step.SignInPlace:
    """The login page's second-factor step (``/login/second-factor``): its forms carry
    the interaction and its CSRF token; it ends in consent or the code."""
    handle = interaction.pending.handle

    def finish(session: BrowserSession, user: User, amr: Sequence[str]) -> Response:
        return _logged_in(op, request, interaction, user, amr)

    return step.SignInPlace(
        action=op.url("/login/second-factor") + "?" + urlencode({"interaction": handle}),
        csrf_token=csrf_token(interaction.session, handle),
        start_over=op.url("/login") + "?" + urlencode({"interaction": handle}),
        finish=finish,
        locale=interaction.locale,
        hidden=(("interaction", handle),),
        passkey_offer=lambda: passkey_sign_in.page_context(op, interaction.session),
    )


def _host_signed_in(
    op: Context, request: Request, interaction: pending.Interaction, host: HostSignIn
) -> Response:
    """The host's signed-in person goes on, as the host reports their sign-in; asked to
    step up through the host's login page first when they lack what the request asks or
    the second factor the MFA policy requires (once: :mod:`.host_step_up`), refused when
    the host still reports too little."""
    account = host.account
    # The request's acr asks are the host step-up's own (voluntary ones may go unmet).
    short = mfa_policy.short_of_policy(op, host.user, interaction.client, (), account.amr)
    ask = host_step_up.ask_of(interaction, account, short)
    if ask is not None:
        asked = single(query_form(request, op.settings.max_param_length), host_step_up.ASKED)
        if op.settings.host_login_url and not asked:
            return responses.redirect(host_step_up.host_url(op, interaction, ask), 303)
        if short or not host_step_up.answered(op, interaction, ask, account):
            unmet = acr.UnmetAuthenticationRequirements.description
            return complete.finish_with_error(op, interaction, acr.UNMET, unmet, via_post=True)
    return _logged_in(op, request, interaction, host.user, account.amr, account.auth_time)


def _logged_in(
    op: Context,
    request: Request,
    interaction: pending.Interaction,
    user: User,
    amr: Sequence[str] = (authn.KNOWLEDGE,),
    auth_time: int | None = None,
) -> Response:
    """Bind the session to ``user``, signed in with ``amr`` at ``auth_time`` (None: now;
    a new key), and go on to consent or the code (or ``login_required``, when the request's
    ``id_token_hint`` names another user)."""
    amr = authn.normalized(amr)
    address = op.client_address(request)
    key = op.browser.log_in(interaction.session, user.id, request, address, amr, auth_time)
    now = int(time.time())
    signed_in_at = now if auth_time is None else min(auth_time, now)
    situation = policy.Situation(
        logged_in=True,
        auth_time=signed_in_at,
        consented=consent.covered(op, user.id, interaction.client, interaction.scopes),
        prompt=interaction.prompt - {"login"},
        max_age=None,
    )
    refusal = complete.hint_refusal(op, interaction.pending.params, user, interaction.client)
    if refusal is not None:  # signed in, but not as the user the client asked for
        response = complete.finish_with_error(op, interaction, *refusal, via_post=True)
    elif policy.consent_needed(situation):
        response = responses.redirect(
            op.url("/consent") + "?interaction=" + interaction.pending.handle, 303
        )
    else:
        response = complete.issue_code(
            op,
            interaction.pending.params,
            user,
            signed_in_at,
            amr=amr,
            pending_id=interaction.pending.id,
            remember_consent=False,
            via_post=True,
            sid=op.browser.sid(key),
            locale=interaction.locale,
        )
    op.browser.set_cookie(response, key)
    return response


def _form(
    op: Context,
    interaction: pending.Interaction,
    *,
    email: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    passkey = passkey_sign_in.page_context(op, interaction.session)
    return responses.html_page(
        op.render(
            "login.html",
            locale=interaction.locale,
            client=interaction.client,
            interaction=interaction.pending.handle,
            csrf_token=csrf_token(interaction.session, interaction.pending.handle),
            action=op.url("/login"),
            forgot_url=sign_in.forgot_url(op),
            email=email,
            error=error,
            **passkey,
        ),
        status,
        scripts=bool(passkey["passkey_options_url"]),
        form_redirects_to=dict(interaction.pending.params).get("redirect_uri", ""),
    )


def with_next(url: str, back: str) -> str:
    """The host's login page, told where to send the user back (``next``)."""
    return url + ("&" if "?" in url else "?") + urlencode({"next": back})
