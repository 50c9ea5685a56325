"""The signing keys of this process: read from storage, parsed once, refreshed on a timer.

Keys live in the database so every worker and host signs with the same ``current`` key and
publishes the same JWK Set.  A process re-reads them after ``key_cache_seconds`` so a key
rotated elsewhere is picked up without a restart.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from . import jose
from .storage import Storage

PUBLISHED_STATES = frozenset({"next", "current", "retired"})


class NoSigningKey(RuntimeError):
    """The database has no current signing key: run ``oidc-core init``."""


class KeyRing:
    def __init__(self, storage: Storage, refresh_seconds: int) -> None:
        self._storage = storage
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._parsed: dict[str, jose.SigningKey] = {}
        self._current: jose.SigningKey | None = None
        self._published: list[jose.SigningKey] = []

    def _refresh_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at < self._refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self._refresh_seconds:
                return
            records = self._storage.keys.all()
            parsed = {
                record.kid: self._parsed.get(record.kid)
                or jose.load_signing_key(record.private_pem, record.alg, record.kid)
                for record in records
                if record.state in PUBLISHED_STATES
            }
            current = next((parsed[r.kid] for r in records if r.state == "current"), None)
            self._parsed = parsed
            self._published = [parsed[r.kid] for r in records if r.kid in parsed]
            self._current = current
            self._loaded_at = time.monotonic()

    def current(self) -> jose.SigningKey:
        self._refresh_if_stale()
        if self._current is None:
            raise NoSigningKey("no current signing key; run `oidc-core init`")
        return self._current

    def sign(self, claims: dict[str, Any]) -> str:
        return jose.sign_jwt(claims, self.current())

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a JWS signed by one of our published keys (``jose.verify_jwt``:
        ``alg`` pinned to that key's); raises :class:`jose.InvalidToken`."""
        self._refresh_if_stale()
        return jose.verify_jwt(token, {key.kid: key for key in self._published})

    def jwks(self) -> dict[str, Any]:
        self._refresh_if_stale()
        return jose.jwk_set(self._published)

    def algorithms(self) -> list[str]:
        return [self.current().alg]


def create_key_if_missing(storage: Storage, alg: str = "RS256") -> str | None:
    """Create a current signing key when there is none; returns its kid, or None."""
    if any(record.state == "current" for record in storage.keys.all()):
        return None
    pem = jose.generate_private_pem(alg)
    kid = jose.key_id(pem)
    storage.keys.add(kid, alg, pem, state="current")
    return kid
