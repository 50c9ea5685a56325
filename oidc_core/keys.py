"""The signing keys of this process: read from storage, parsed once, refreshed on a timer.

Keys live in the database so every worker and host signs with the same ``current`` key and
publishes the same JWK Set.  A process re-reads them after ``key_cache_seconds`` so a key
rotated elsewhere is picked up without a restart.

Rotation (OpenID Connect Core 10.1.1) goes through three states per algorithm: a ``next``
key is published in the JWKS without signing anything; a rotation promotes it to
``current`` only once it is older than ``key_cache_seconds`` (so every process publishes it
before any process signs with it), retires the old current key and publishes a new next
key.  A retired key stays in the JWKS until every ID token it may have signed has expired:
``retired_at`` + ``key_cache_seconds`` (a process may sign with it that much longer) + the
longest ID token lifetime.  With ``key_rotation_days`` set, the reload rotates lazily when
the current key is that old; the database makes the promotion race-free (see
:meth:`oidc_core.storage.keys.KeyStore.rotate`).

When the database fails at a reload, a process that has read its keys once keeps them (the
JWK Set and discovery keep answering, relying parties can still verify ID tokens) and tries
again after ``STALE_RETRY_SECONDS``; a process that never read them has nothing to serve.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from . import jose
from .records import KeyRecord
from .storage import Storage, StorageError
from .storage.keys import Rotation, RotationRefused

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)

DEFAULT_ALGORITHM = "RS256"
DAY = 86400
STALE_RETRY_SECONDS = 5  # the database failed at a reload: the next attempt, not before


class NoSigningKey(RuntimeError):
    """The database has no current signing key: run ``oidc-core init``."""


def retirement_horizon(storage: Storage, settings: Settings) -> int:
    """How long a retired key stays published, in seconds."""
    return settings.key_cache_seconds + storage.keys.longest_id_token_ttl(settings.id_token_ttl)


def published(records: list[KeyRecord], horizon: int, now: float) -> list[KeyRecord]:
    """next + current + the retired keys that may still have signed a live token."""
    return [
        record
        for record in records
        if record.state in ("next", "current")
        or (record.state == "retired" and (record.retired_at or 0) + horizon > now)
    ]


def rotate(storage: Storage, alg: str, *, min_next_age: int, **kwargs: Any) -> Rotation:
    """One rotation step for ``alg`` (see :meth:`KeyStore.rotate`); a fresh next key."""
    if alg not in jose.SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    pem = jose.generate_private_pem(alg)
    return storage.keys.rotate(alg, jose.key_id(pem), pem, min_next_age=min_next_age, **kwargs)


def rotate_due(storage: Storage, settings: Settings, now: float | None = None) -> list[Rotation]:
    """Automatic rotation: one step for every algorithm whose current key is older than
    ``key_rotation_days``, or that has no next key yet.  Safe to run in every process."""
    if settings.key_rotation_days <= 0:
        return []
    now = time.time() if now is None else now
    due_before = int(now - settings.key_rotation_days * DAY)
    done = []
    records = storage.keys.all()
    for alg in sorted({r.alg for r in records if r.state == "current"}):
        live = {r.state: r for r in records if r.alg == alg and r.state in ("next", "current")}
        try:
            if "next" not in live:
                done.append(rotate(storage, alg, min_next_age=0, activated_before=now + 1))
            elif (live["current"].activated_at or 0) < due_before:
                done.append(
                    rotate(
                        storage,
                        alg,
                        min_next_age=settings.key_cache_seconds,
                        activated_before=due_before,
                    )
                )
        except RotationRefused as refused:
            log.info("automatic key rotation of %s not done: %s", alg, refused)
    for rotation in done:
        log.info("automatic key rotation: %s", rotation)
    return done


class KeyRing:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self._storage = storage
        self._settings = settings
        self._refresh_seconds = settings.key_cache_seconds
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._retry_at = float("-inf")
        self._parsed: dict[str, jose.SigningKey] = {}
        self._current: dict[str, jose.SigningKey] = {}
        self._published: list[jose.SigningKey] = []
        self._algorithms: list[str] = []
        self._jwks_json = b""  # the JWK Set's body, serialized once per reload

    def invalidate(self) -> None:
        """Read the keys again at the next use (after this process changed them)."""
        self._loaded_at = self._retry_at = float("-inf")

    def _is_fresh(self) -> bool:
        now = time.monotonic()
        return now - self._loaded_at < self._refresh_seconds or now < self._retry_at

    def _refresh_if_stale(self) -> None:
        if self._is_fresh():
            return
        with self._lock:
            if self._is_fresh():
                return
            try:
                self._reload()
            except StorageError:
                if not self._published:
                    raise  # never read: nothing to serve
                self._storage.drop_after_failure()
                self._retry_at = time.monotonic() + STALE_RETRY_SECONDS
                log.warning(
                    "the database failed: keeping the signing keys read before, "
                    "trying again in %d s",
                    STALE_RETRY_SECONDS,
                )

    def _reload(self) -> None:
        # The keys are as old as this read of the database, not as the end of the reload
        # (parsing a new key takes ~40 ms, much longer on a busy CPU): a key another process
        # publishes meanwhile must be served key_cache_seconds after it at the latest.
        read_at = time.monotonic()
        rotate_due(self._storage, self._settings)
        records = published(
            self._storage.keys.all(),
            retirement_horizon(self._storage, self._settings),
            time.time(),
        )
        parsed = {
            record.kid: self._parsed.get(record.kid)
            or jose.load_signing_key(record.private_pem, record.alg, record.kid)
            for record in records
        }
        self._parsed = parsed
        self._published = [parsed[r.kid] for r in records]
        self._current = {r.alg: parsed[r.kid] for r in records if r.state == "current"}
        self._algorithms = sorted(self._current, key=lambda alg: (alg != DEFAULT_ALGORITHM, alg))
        self._jwks_json = json.dumps(jose.jwk_set(self._published), separators=(",", ":")).encode()
        self._loaded_at = read_at

    def current(self, alg: str = DEFAULT_ALGORITHM) -> jose.SigningKey:
        self._refresh_if_stale()
        key = self._current.get(alg)
        if key is None:
            raise NoSigningKey(f"no current {alg} signing key; run `oidc-core keys rotate`")
        return key

    def sign(self, claims: dict[str, Any], alg: str | None = None, typ: str = "JWT") -> str:
        """Sign with the current key of ``alg``; None: RS256, or the only algorithm there is
        a key for (a database initialised with ``--key-alg ES256``)."""
        if alg is None:
            available = self.algorithms()
            alg = available[0] if available else DEFAULT_ALGORITHM
        return jose.sign_jwt(claims, self.current(alg), typ)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a JWS signed by one of our published keys (``jose.verify_jwt``:
        ``alg`` pinned to that key's); raises :class:`jose.InvalidToken`."""
        self._refresh_if_stale()
        return jose.verify_jwt(token, {key.kid: key for key in self._published})

    def jwks_json(self) -> bytes:
        """The JWK Set of the published keys as JSON (built when the keys are read)."""
        self._refresh_if_stale()
        return self._jwks_json

    def algorithms(self) -> list[str]:
        """The algorithms with a current key, RS256 first."""
        self._refresh_if_stale()
        return list(self._algorithms)


def create_key_if_missing(storage: Storage, alg: str = DEFAULT_ALGORITHM) -> str | None:
    """Create a current ``alg`` signing key when there is none; returns its kid, or None."""
    if any(r.state == "current" and r.alg == alg for r in storage.keys.all()):
        return None
    pem = jose.generate_private_pem(alg)
    kid = jose.key_id(pem)
    storage.keys.add(kid, alg, pem, state="current")
    return kid
