"""User passwords: argon2id with configured cost, bounded concurrency, no enumeration.

The cost parameters come from :class:`~oidc_core.settings.Settings`.  A semaphore bounds how
many hashes one process computes at once, so a burst of logins cannot starve the token
endpoint.  :meth:`PasswordService.verify` runs a hash even for unknown accounts, so the
answer and its timing are the same for a wrong password and an unknown email.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from .settings import Settings


class PasswordTooLong(ValueError):
    """The password exceeds ``password_max_length`` bytes; refused before hashing."""


class PasswordService:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_cost,
            parallelism=settings.password_parallelism,
            type=Type.ID,
        )
        self._max_length = settings.password_max_length
        self._slots = threading.BoundedSemaphore(settings.password_hash_concurrency)
        self._dummy_hash = self._hasher.hash("not a real password")

    def check_length(self, password: str) -> None:
        if len(password.encode("utf-8", "surrogatepass")) > self._max_length:
            raise PasswordTooLong(f"passwords are at most {self._max_length} bytes")

    def hash(self, password: str) -> str:
        self.check_length(password)
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; always spends one hash, even without an account."""
        self.check_length(password)
        with self._slots:
            try:
                return self._hasher.verify(stored_hash or self._dummy_hash, password) and (
                    stored_hash is not None
                )
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
