"""The provider's browser state: the session cookie and CSRF tokens.

The cookie holds a random key; the database holds its SHA-256 digest, the user and the
authentication time.  The key and the CSRF secret are replaced at login (session fixation).
A CSRF token is an HMAC of the pending request's handle under the session's secret, so a
token is valid for one session and one pending authorization only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from webob import Request, Response

from .. import authn
from ..errors import PageError
from ..params import posted_form, single
from ..records import BrowserSession
from ..settings import Settings
from ..storage import Storage
from ..ui.translations import N_

if TYPE_CHECKING:
    from ..accounts import HostSignIn

EXPIRED_FORM = N_(
    "This form has expired or was opened in another browser. Reload it and try again."
)
WRONG_METHOD = N_("This address does not accept this method.")


class BrowserSessions:
    def __init__(self, settings: Settings, storage: Storage) -> None:
        self._settings = settings
        self._storage = storage
        self._cookie_path = urlsplit(settings.issuer).path or "/"

    def current(self, request: Request) -> BrowserSession | None:
        key = request.cookies.get(self._settings.session_cookie_name)
        if not key or len(key) > 128:
            return None
        return self._storage.sessions.by_key(key)

    def start(self) -> tuple[str, BrowserSession]:
        return self._storage.sessions.create(self._settings.session_ttl)

    def log_in(
        self,
        session: BrowserSession,
        user_id: int,
        request: Request,
        address: str,
        amr: Sequence[str] = (authn.KNOWLEDGE,),
        auth_time: int | None = None,
    ) -> str:
        """Bind ``session`` to ``user_id`` under a new key, noting the browser (its
        ``User-Agent``) and its IP ``address`` for the user's sessions page and how the
        user proved who they are (``amr``, RFC 8176 values, :mod:`oidc_core.authn`) and
        when (``auth_time``; None: now)."""
        return self._storage.sessions.log_in(
            session.id,
            user_id,
            self._settings.session_ttl,
            user_agent=request.user_agent or "",
            ip_address=address,
            amr=authn.normalized(amr),
            auth_time=auth_time,
        )

    def sign_in(
        self,
        session: BrowserSession | None,
        user_id: int,
        request: Request,
        address: str,
        amr: Sequence[str] = (authn.KNOWLEDGE,),
        auth_time: int | None = None,
    ) -> tuple[str, BrowserSession]:
        """Bind ``session`` (a new one if None) to ``user_id`` now, under a new key."""
        if session is None:
            _, session = self.start()
        key = self.log_in(session, user_id, request, address, amr, auth_time)
        signed_in = self._storage.sessions.by_key(key)
        if signed_in is None:
            raise RuntimeError("a session just signed in is gone")
        return key, signed_in

    def follow_host(
        self, session: BrowserSession | None, host: HostSignIn, request: Request, address: str
    ) -> tuple[str | None, BrowserSession]:
        """The session bound to the host application's signed-in user as the host reports
        them (who, how and when they signed in); a new key to set when it had to change."""
        amr = authn.normalized(host.account.amr)
        if (
            session is not None
            and session.user_id == host.user.id
            and session.amr == amr
            and host.account.auth_time in (None, session.auth_time)
        ):
            return None, session
        auth_time = host.account.auth_time
        return self.sign_in(session, host.user.id, request, address, amr, auth_time)

    def sid(self, key: str) -> str | None:
        """The ``sid`` of the session with cookie value ``key`` (just after login)."""
        session = self._storage.sessions.by_key(key)
        return session.sid if session else None

    def end(self, session: BrowserSession, logout_tokens: Sequence[tuple[int, str]] = ()) -> None:
        """Sign out: the session (and any request waiting in it) is deleted; the
        back-channel ``logout_tokens`` (client pk, JWT) are queued with it."""
        self._storage.sessions.end(session.id, logout_tokens)

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(self._settings.session_cookie_name, path=self._cookie_path)

    def set_cookie(self, response: Response, key: str) -> None:
        response.set_cookie(
            self._settings.session_cookie_name,
            key,
            max_age=self._settings.session_ttl,
            path=self._cookie_path,
            secure=self._settings.secure_cookies,
            httponly=True,
            samesite="Lax",
        )


def csrf_token(session: BrowserSession, handle: str) -> str:
    return hmac.new(
        session.csrf_secret.encode("ascii"), handle.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def csrf_valid(session: BrowserSession, handle: str, token: str) -> bool:
    expected = csrf_token(session, handle).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", "surrogateescape"))


def checked_form(
    request: Request,
    session: BrowserSession,
    purpose: str,
    methods: frozenset[str],
    max_length: int,
) -> dict[str, list[str]]:
    """The form of a signed-in page's request: empty for a GET; a POST's fields once its
    CSRF token for ``purpose`` is valid.  PageError 405 for a method the page does not
    take, 400 for a repeated token, 403 for a missing or wrong one."""
    if request.method not in methods:
        raise PageError(WRONG_METHOD, status=405, error="")
    if request.method != "POST":
        return {}
    form = posted_form(request, max_length)
    if not csrf_valid(session, purpose, single(form, "csrf_token")):
        raise PageError(EXPIRED_FORM, status=403, error="")
    return form
