"""Sessions: where the user is signed in to the provider, and signing them out.

Ending a session is a sign-out there (``backchannel.sign_out``): the apps that signed the
user in through it get a back-channel logout token.  "Sign out everywhere" ends every
session of the user, this one included.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from webob import Response

from .. import backchannel, responses
from ..errors import PageError
from ..ui.translations import N_, Message
from .request import AccountRequest

if TYPE_CHECKING:
    from ..context import Context

NOTICES = {"ended": N_("The session was signed out.")}
NO_SUCH_SESSION = N_("This session does not exist or has already ended.")

# (pattern in the User-Agent, name shown); the first match wins, so order matters.
BROWSERS = (
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chrome/|CriOS/|Chromium/"), "Chrome"),
    (re.compile(r"Safari/"), "Safari"),
)
SYSTEMS = (
    (re.compile(r"iPhone|iPad|iPod"), "iOS"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Mac OS X|Macintosh"), "macOS"),
    (re.compile(r"CrOS"), "ChromeOS"),
    (re.compile(r"Linux|X11"), "Linux"),
)
SHORT_AGENT = 60


def short_browser(user_agent: str) -> str | Message:
    """ "Firefox on Linux" for a browser we recognise (a message the page translates),
    else the first characters."""
    browser = next((name for pattern, name in BROWSERS if pattern.search(user_agent)), "")
    system = next((name for pattern, name in SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return Message(N_("%(browser)s on %(system)s"), {"browser": browser, "system": system})
    if len(user_agent) > SHORT_AGENT:
        return user_agent[: SHORT_AGENT - 1] + "…"
    return browser or user_agent


def session_list(account: AccountRequest) -> Response:
    notice = account.notice(NOTICES)
    return account.page(
        "account_sessions.html",
        section="sessions",
        sessions=account.op.storage.sessions.of_user(account.user.id),
        current_id=account.session.id,
        short_browser=short_browser,
        notice=notice,
    )


def end_one(account: AccountRequest, session_id: str) -> Response:
    """POST: sign out one of the user's sessions (this one: back to the sign-in page)."""
    session = account.op.storage.sessions.of_user_by_id(account.user.id, int(session_id))
    if session is None:
        raise PageError(NO_SUCH_SESSION, status=404)
    backchannel.sign_out(account.op, session)
    if session.id == account.session.id:
        return _signed_out(account)
    return account.redirect("/sessions?notice=ended")


def end_all(account: AccountRequest) -> Response:
    """POST: sign out every session of the user, this one included."""
    sign_out_everywhere(account.op, account.user.id)
    return _signed_out(account)


def sign_out_everywhere(op: Context, user_id: int, keep: int | None = None) -> None:
    """End every session of the user but ``keep`` (a session id), each with its
    back-channel logout tokens, in one transaction."""
    with op.storage.transaction():
        queued = end_every_session(op, user_id, keep)
    if queued:
        op.backchannel.wake()


def end_every_session(op: Context, user_id: int, keep: int | None = None) -> bool:
    """:func:`sign_out_everywhere` inside the caller's transaction: the caller wakes the
    back-channel sender after its commit if this returns True (logout tokens queued).
    Sign-ins of the user still waiting for their second step end too."""
    op.storage.sessions.end_half_done(user_id)
    queued = False
    for session in op.storage.sessions.signed_in(user_id):
        if session.id != keep:
            queued = backchannel.end_session(op, session) or queued
    return queued


def _signed_out(account: AccountRequest) -> Response:
    response = responses.redirect(account.op.url("/account/login"), 303)
    account.op.browser.clear_cookie(response)
    return response
