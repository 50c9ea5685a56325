"""Values shown once, on the page a POST redirects to (POST-redirect-GET).

A console POST that makes a secret (a new client, a secret reset) keeps it here and answers
303; the page it redirects to takes it and shows it, and a reload of that page finds
nothing (and changes nothing).  The value never travels in a URL nor in a cookie: it is
kept in the database for :data:`TTL` seconds, tied to the browser session, and deleted as
it is read.  It is stored encrypted (AES-256-GCM) under a key derived (HKDF-SHA256) from
the session's cookie, which the database holds only as a digest: a copy of the database
cannot read it.  A value a page must show again on reload (an authenticator app's secret
being set up) is read with :meth:`Flashes.peek`, which leaves it in place.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from webob import Request

from ..records import BrowserSession
from ..settings import Settings
from ..storage import Storage

TTL = 300  # seconds: the redirect is followed at once; a slow or failed load may retry
_NONCE_BYTES = 12
_KEY_LABEL = b"oidc-core one-time value"


class Flashes:
    def __init__(self, settings: Settings, storage: Storage) -> None:
        self._cookie_name = settings.session_cookie_name
        self._storage = storage

    def put(
        self,
        request: Request,
        session: BrowserSession,
        name: str,
        value: dict[str, Any],
        ttl: int = TTL,
    ) -> None:
        """Keep ``value`` (JSON) under ``name`` for the next page of this browser session
        (for ``ttl`` seconds), replacing what was kept under ``name`` before."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher(request).encrypt(
            nonce, json.dumps(value).encode(), _context(session, name)
        )
        text = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        self._storage.one_time.put(session.id, name, text, ttl)

    def take(self, request: Request, session: BrowserSession, name: str) -> dict[str, Any] | None:
        """The value kept under ``name``, deleted as it is read; None if there is none."""
        return self._opened(request, session, name, self._storage.one_time.take(session.id, name))

    def peek(self, request: Request, session: BrowserSession, name: str) -> dict[str, Any] | None:
        """The value kept under ``name``, left in place (a page shown again on reload)."""
        return self._opened(request, session, name, self._storage.one_time.peek(session.id, name))

    def _opened(
        self, request: Request, session: BrowserSession, name: str, text: str | None
    ) -> dict[str, Any] | None:
        if text is None:
            return None
        raw = base64.urlsafe_b64decode(text)
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            plain = self._cipher(request).decrypt(nonce, sealed, _context(session, name))
        except InvalidTag:  # kept under another cookie: not this browser's to read
            return None
        value: dict[str, Any] = json.loads(plain)
        return value

    def _cipher(self, request: Request) -> AESGCM:
        cookie = request.cookies.get(self._cookie_name, "")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL)
        return AESGCM(hkdf.derive(cookie.encode("utf-8", "surrogateescape")))


def _context(session: BrowserSession, name: str) -> bytes:
    """Authenticated data: a value decrypts only for its session and under its name."""
    return f"{session.id}:{name}".encode()
