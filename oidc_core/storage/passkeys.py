"""Passkeys and security keys (WebAuthn credentials) of the users: ``oidc_webauthn_credential``.

A credential is found by the SHA-256 digest of its base64url ID (an ID may be up to 1023
bytes, too long for a portable unique index).  Its public key and sign counter are what
:mod:`oidc_core.mfa.passkeys` checks an assertion against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import peewee

from ..credentials import digest
from . import models
from .db import database_proxy, write_transaction


@dataclass(frozen=True)
class Passkey:
    """One registered credential (its ID and public key base64url, as WebAuthn gives them)."""

    id: int
    user_id: int
    credential_id: str
    public_key: str
    sign_count: int
    name: str
    transports: tuple[str, ...]
    aaguid: str
    passwordless: bool
    created_at: int
    last_used_at: int | None


class DuplicatePasskey(ValueError):
    """This credential is registered already (to this account or another)."""


class PasskeyStore:
    def add(
        self,
        user_id: int,
        *,
        credential_id: str,
        public_key: str,
        sign_count: int,
        name: str,
        transports: tuple[str, ...],
        aaguid: str,
        passwordless: bool,
    ) -> Passkey:
        try:
            with write_transaction(database_proxy):
                row = models.WebAuthnCredential.create(
                    user=user_id,
                    credential_id_digest=digest(credential_id),
                    credential_id=credential_id,
                    public_key=public_key,
                    sign_count=sign_count,
                    name=name,
                    transports=" ".join(transports),
                    aaguid=aaguid,
                    passwordless=passwordless,
                    created_at=int(time.time()),
                )
        except peewee.IntegrityError:
            raise DuplicatePasskey(credential_id) from None
        return _passkey(row)

    def of_user(self, user_id: int) -> list[Passkey]:
        """The user's credentials, oldest first."""
        row = models.WebAuthnCredential
        query = row.select().where(row.user == user_id).order_by(row.created_at, row.id)
        return [_passkey(found) for found in query]

    def by_credential_id(self, credential_id: str) -> Passkey | None:
        row = models.WebAuthnCredential
        found = row.get_or_none(row.credential_id_digest == digest(credential_id))
        return _passkey(found) if found is not None else None

    def used(self, passkey_id: int, old_count: int, new_count: int) -> bool:
        """Record a sign-in: the new counter, if no other sign-in moved it meanwhile
        (False: one did, a replay or a cloned key racing this one)."""
        row = models.WebAuthnCredential
        with write_transaction(database_proxy):
            changed = (
                row.update(sign_count=new_count, last_used_at=int(time.time()))
                .where((row.id == passkey_id) & (row.sign_count == old_count))
                .execute()
            )
        return bool(changed)

    def rename(self, user_id: int, passkey_id: int, name: str) -> bool:
        row = models.WebAuthnCredential
        with write_transaction(database_proxy):
            changed = (
                row.update(name=name)
                .where((row.id == passkey_id) & (row.user == user_id))
                .execute()
            )
        return bool(changed)

    def remove(self, user_id: int, passkey_id: int) -> bool:
        row = models.WebAuthnCredential
        with write_transaction(database_proxy):
            deleted = row.delete().where((row.id == passkey_id) & (row.user == user_id)).execute()
        return bool(deleted)


def _passkey(row: models.WebAuthnCredential) -> Passkey:
    return Passkey(
        id=row.id,
        user_id=row.user_id,
        credential_id=row.credential_id,
        public_key=row.public_key,
        sign_count=row.sign_count,
        name=row.name,
        transports=tuple(row.transports.split()),
        aaguid=row.aaguid,
        passwordless=bool(row.passwordless),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )
