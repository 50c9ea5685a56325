"""The second step of a sign-in: after a right password, a one-time code (or a passkey).

The three places where people sign in (the login page of an authorization request, the
account pages, the admin console) each describe themselves as a :class:`SignInPlace` and
call :func:`begin` once the password is right.  When the user needs no second factor
(:mod:`.policy`) it returns None and the place signs the user in at once.  Otherwise the
browser session records the half-done sign-in (the user, the methods so far, the time:
``second_factor_ttl`` seconds to finish, in this browser session only) and the answer is
the place's second-factor page (:func:`page` serves it again and takes its forms), which
asks for an authenticator app's code or a recovery code (and offers the user's passkeys
where the place and the provider offer them: ``action=passkey``), or, for a user who must
have a factor and has none, leads through enrolling an authenticator app and shows the
recovery codes once.

Only :func:`complete_second_factor` ends the step: the session is bound to the user under
a new key with every method used (``pwd otp``: ``mfa``), and the place goes on as after a
password alone (consent or the code; the area's first page); a passkey makes it ``pwd
hwk`` (or ``swk``, with ``user`` when the key verified the user): ``mfa`` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from webob import Request, Response

from .. import authn, responses
from ..params import first
from ..records import BrowserSession, Client, PendingSignIn, User
from ..storage import Enrolled
from ..throttle import Throttled
from ..ui.translations import N_
from . import codes, passkeys, policy, totp, totp_setup

if TYPE_CHECKING:
    from ..context import Context

# (session, user, amr) -> the response that ends the sign-in at this place
Finish = Callable[[BrowserSession, User, Sequence[str]], Response]

WRONG_CODE = N_("The code is not correct.")
EXPIRED = N_("This sign-in has expired or was started in another browser. Sign in again.")
TOO_MANY_CODES = N_("Too many wrong codes. Sign in again.")


@dataclass(frozen=True)
class SignInPlace:
    """Where a sign-in happens, as its second-factor step needs to know it."""

    action: str  # the URL of the second-factor page (its forms post there too)
    csrf_token: str  # this browser session's token for the page's forms
    start_over: str  # the URL of the place's sign-in page
    finish: Finish
    locale: str | None = None  # the pages' language (None: the browser's, of ``request``)
    request: Request | None = None
    hidden: tuple[tuple[str, str], ...] = ()  # more hidden fields every form carries
    context: dict[str, Any] = field(default_factory=dict)  # more for the templates
    # What the page needs to offer a passkey (the options URL and its CSRF token, as
    # ``interactions.passkey_sign_in.page_context``), asked only for a user with one;
    # None: this place offers none.
    passkey_offer: Callable[[], dict[str, str]] | None = None


def begin(
    op: Context,
    request: Request,
    session: BrowserSession,
    user: User,
    place: SignInPlace,
    client: Client | None = None,
    params: Sequence[tuple[str, str]] = (),
) -> Response | None:
    """After ``user``'s right password: None if no second factor is needed, else the
    half-done sign-in is recorded on ``session`` and the answer is the second-factor page
    itself (its forms post to the place's second-factor address; no redirect to it, which
    would cost a request per sign-in)."""
    enrolled = op.storage.factors.enrolled(user.id)
    if not policy.second_factor_required(op, user, client, params, enrolled):
        return None
    pending = PendingSignIn(user.id, (authn.KNOWLEDGE,), int(time.time()))
    op.storage.sessions.begin_sign_in(session.id, user.id, pending.amr, pending.started_at)
    if enrolled.any:
        return _factor_page(op, place, user, enrolled)
    return _enrol(op, request, session, user, pending, {}, place, False)


def page(
    op: Context,
    request: Request,
    session: BrowserSession | None,
    form: dict[str, list[str]],
    place: SignInPlace,
) -> Response:
    """The second-factor page: GET shows it, POST (``form``, its CSRF token checked by the
    place) takes a ``code`` (``action=code``) or a ``passkey`` (``action=passkey``: the
    browser's answer to the options asked with ``second_factor=1``), confirms a new
    authenticator app (``action=enrol``) or, once enrolled, goes on (``action=continue``)."""
    found = half_done(op, session)
    if session is None or found is None:
        return _render(op, place, "second_factor_expired.html", status=400, error=EXPIRED)
    pending, user = found
    action = first(form, "action") if request.method == "POST" else ""
    proved = set(pending.amr) & authn.SECOND_FACTORS
    if action == "continue" and proved:  # enrolled in this sign-in: nothing more to prove
        return complete_second_factor(op, request, session, place, ())
    if action == "code":
        return _code(op, request, session, user, pending, form, place)
    if action == "passkey":
        return _passkey(op, request, session, user, pending, form, place)
    enrolled = op.storage.factors.enrolled(user.id)
    if not enrolled.any and not proved:
        return _enrol(op, request, session, user, pending, form, place, action == "enrol")
    if proved:  # enrolled in this sign-in; the recovery codes were shown then
        return _render(op, place, "second_factor_continue.html")
    return _factor_page(op, place, user, enrolled)


def complete_second_factor(
    op: Context,
    request: Request,
    session: BrowserSession,
    place: SignInPlace,
    amr_added: Sequence[str],
) -> Response:
    """End the half-done sign-in of ``session`` now that a second factor (``amr_added``,
    RFC 8176 values such as ``otp`` or ``hwk``) is proved: the place signs the user in
    with every method used.  An expired or missing half-done sign-in gets the page that
    says so (400)."""
    found = half_done(op, session)
    if found is None:
        return _render(op, place, "second_factor_expired.html", status=400, error=EXPIRED)
    pending, user = found
    return _finish(place, session, user, pending, amr_added)


def _finish(
    place: SignInPlace,
    session: BrowserSession,
    user: User,
    pending: PendingSignIn,
    amr_added: Sequence[str],
) -> Response:
    return place.finish(session, user, authn.normalized((*pending.amr, *amr_added)))


def half_done(op: Context, session: BrowserSession | None) -> tuple[PendingSignIn, User] | None:
    """The browser session's half-done sign-in and its user, while it lasts
    (``second_factor_ttl``) and the account is active; None without one (another factor
    asks whose it is, e.g. to offer that user's passkeys), or once the account was
    suspended or closed after its password was checked."""
    if session is None:
        return None
    pending = op.storage.sessions.pending_sign_in(session.id, op.settings.second_factor_ttl)
    user = op.storage.users.by_id(pending.user_id) if pending else None
    if pending is None or user is None or not op.accounts.active(user):
        return None
    return pending, user


def _code(
    op: Context,
    request: Request,
    session: BrowserSession,
    user: User,
    pending: PendingSignIn,
    form: dict[str, list[str]],
    place: SignInPlace,
) -> Response:
    def again(status: int) -> Response:
        return _factor_page(op, place, user, None, status=status, error=WRONG_CODE)

    try:
        method = codes.check_code(op, user, first(form, "code"), op.client_address(request))
    except Throttled as locked:
        return _refused(again, locked)
    if method is None:
        return _wrong_code(op, session, user, pending, place, again)
    return _finish(place, session, user, pending, (method,))


def _passkey(
    op: Context,
    request: Request,
    session: BrowserSession,
    user: User,
    pending: PendingSignIn,
    form: dict[str, list[str]],
    place: SignInPlace,
) -> Response:
    """A passkey of ``user`` as the second factor: its assertion must answer the challenge
    made for this user's half-done sign-in (not one made for a passwordless sign-in)."""

    def again(status: int) -> Response:  # the page's own message for a failed passkey
        return _factor_page(op, place, user, None, status=status, passkey_failed=True)

    try:
        proved, amr = passkeys.verify_assertion(
            op, request, session, first(form, "passkey"), user.id
        )
    except Throttled as locked:
        return _refused(again, locked)
    except passkeys.PasskeyRefused:
        return _refused(again)
    return _finish(place, session, proved, pending, amr)


def _factor_page(
    op: Context,
    place: SignInPlace,
    user: User,
    enrolled: Enrolled | None,
    *,
    status: int = 200,
    error: str = "",
    passkey_failed: bool = False,
) -> Response:
    """The page asking for the second factor: a code, and the user's passkeys where the
    place and the provider offer them (the page then runs the passkey script)."""
    if enrolled is None:
        enrolled = op.storage.factors.enrolled(user.id)
    offer: dict[str, Any] = {}
    if enrolled.webauthn and place.passkey_offer is not None:
        offer = place.passkey_offer()
    offered = bool(offer.get("passkey_options_url"))
    return _render(
        op,
        place,
        "second_factor.html",
        status=status,
        scripts=offered,
        error=error,
        has_totp=enrolled.totp,
        passkey_failed=passkey_failed,
        **(offer if offered else {}),
    )


def _enrol(
    op: Context,
    request: Request,
    session: BrowserSession,
    user: User,
    pending: PendingSignIn,
    form: dict[str, list[str]],
    place: SignInPlace,
    confirming: bool,
) -> Response:
    """Enrolment within the sign-in: a new secret for this half-done sign-in, kept by this
    browser session only (the same on reload), confirmed by its first code; then the
    recovery codes, once."""
    purpose, since = totp_setup.SIGN_IN, pending.started_at
    shown = totp_setup.kept(op, request, session, purpose, user, since)
    if shown is None:
        shown = totp_setup.start(op, request, session, purpose, user, since)
        confirming = False

    def again(status: int) -> Response:
        return _enrol_page(op, place, user, shown, status, WRONG_CODE)

    if not confirming:
        return _enrol_page(op, place, user, shown, 200, "")
    try:
        code = first(form, "code")
        confirmed = totp_setup.confirm(op, request, session, purpose, user, shown, code)
    except Throttled as locked:
        return _refused(again, locked)
    if not confirmed:
        return _wrong_code(op, session, user, pending, place, again)
    recovery_codes = codes.new_recovery_codes(op, user)
    op.storage.sessions.add_to_sign_in(session.id, user.id, (*pending.amr, authn.OTP))
    return _render(op, place, "second_factor_recovery.html", codes=recovery_codes)


def _wrong_code(
    op: Context,
    session: BrowserSession,
    user: User,
    pending: PendingSignIn,
    place: SignInPlace,
    page: Callable[[int], Response],
) -> Response:
    """A wrong code: ``page`` again (401), until the half-done sign-in has taken
    ``CODES_PER_SIGN_IN`` of them; then it ends, and the password must be typed again."""
    if not op.throttle.code_failed_in_sign_in(session.id, pending.started_at):
        return _refused(page)
    op.storage.sessions.end_half_done(user.id, session.id)
    return _render(op, place, "second_factor_expired.html", status=401, error=TOO_MANY_CODES)


def _refused(page: Callable[[int], Response], locked: Throttled | None = None) -> Response:
    """A wrong code's answer, ``page`` again: 401, or while the brute-force counters lock
    the account, 429 with ``Retry-After``."""
    if locked is None:
        return page(401)
    response = page(429)
    response.headers["Retry-After"] = str(locked.retry_after)
    return response


def _enrol_page(
    op: Context, place: SignInPlace, user: User, secret: str, status: int, error: str
) -> Response:
    qr: dict[str, Any] = qr_context(op, user, secret)
    return _render(op, place, "second_factor_enrol.html", status=status, error=error, **qr)


def qr_context(op: Context, user: User, secret: str) -> dict[str, str]:
    """What an enrolment page shows: the QR code (inline SVG) and the secret in groups."""
    issuer = urlsplit(op.settings.issuer).netloc
    uri = totp.provisioning_uri(secret, op.accounts.actor(user), issuer)
    return {
        "qr_svg": totp.qr_svg(uri),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }


def _render(
    op: Context,
    place: SignInPlace,
    template: str,
    *,
    status: int = 200,
    scripts: bool = False,
    **context: Any,
) -> Response:
    page = op.render(
        template,
        locale=place.locale,
        request=place.request,
        action=place.action,
        csrf_token=place.csrf_token,
        hidden=place.hidden,
        start_over=place.start_over,
        error=context.pop("error", ""),
        **place.context,
        **context,
    )
    return responses.html_page(page, status, scripts=scripts)
