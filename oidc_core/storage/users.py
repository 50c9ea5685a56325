"""Users: the built-in account table."""

from __future__ import annotations

import time

import peewee

from .. import credentials, records
from ..claims import EDITABLE_CLAIMS
from . import convert, models
from .clients import Audit, _record
from .db import database_proxy, write_transaction
from .hotpath import HotPath


class DuplicateEmail(ValueError):
    """Another user already has this email address."""


class UserStore:
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def create(
        self,
        email: str,
        password_hash: str,
        *,
        name: str = "",
        given_name: str = "",
        family_name: str = "",
        preferred_username: str = "",
        locale: str = "",
        email_verified: bool = False,
        is_admin: bool = False,
        audit: Audit | None = None,
    ) -> records.User:
        """A new built-in account (and ``audit``'s entry, in its transaction)."""
        now = int(time.time())
        try:
            with database_proxy.atomic():
                row = models.User.create(
                    subject=credentials.new_subject(),
                    email=email.strip().lower(),
                    password_hash=password_hash,
                    name=name,
                    given_name=given_name,
                    family_name=family_name,
                    preferred_username=preferred_username,
                    locale=locale,
                    email_verified=email_verified,
                    is_admin=is_admin,
                    created_at=now,
                    updated_at=now,
                )
                _record(audit, str(row.email), now)
        except peewee.IntegrityError:
            raise DuplicateEmail(email) from None
        return convert.user(row)

    def by_email(self, email: str) -> records.User | None:
        """The user who signs in with ``email`` (every password sign-in asks: prebuilt)."""
        row = self._hot.fetch_one(self._hot.user_by_email, (email.strip().lower(),))
        return convert.user(row) if row else None  # type: ignore[arg-type]

    def by_subject(self, subject: str) -> records.User | None:
        row = models.User.get_or_none(models.User.subject == subject)
        return convert.user(row) if row else None

    def for_external(self, external_id: str) -> records.User:
        """The row of a host account, created with a new random ``sub`` on first sight.

        Rows are never deleted, so a ``sub`` is never given to anyone else; two requests
        seeing a new account at once both get the one row (the unique index decides).
        """
        row = models.User.get_or_none(models.User.external_id == external_id)
        if row is None:
            now = int(time.time())
            try:
                with database_proxy.atomic():
                    row = models.User.create(
                        subject=credentials.new_subject(),
                        external_id=external_id,
                        email=None,
                        created_at=now,
                        updated_at=now,
                    )
            except peewee.IntegrityError:
                row = models.User.get(models.User.external_id == external_id)
        return convert.user(row)

    def by_id(self, user_id: int) -> records.User | None:
        """The user of a session (every signed-in page and second factor asks: prebuilt)."""
        row = self._hot.fetch_one(self._hot.user_by_id, (user_id,))
        return convert.user(row) if row else None  # type: ignore[arg-type]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        models.User.update(password_hash=password_hash, updated_at=int(time.time())).where(
            models.User.id == user_id
        ).execute()

    def update_profile(self, user_id: int, claims: dict[str, str]) -> records.User | None:
        """Set the given profile claims (already validated) of a built-in account."""
        if not set(claims) <= set(EDITABLE_CLAIMS):
            raise ValueError(f"not an editable claim: {sorted(set(claims) - set(EDITABLE_CLAIMS))}")
        if claims:
            models.User.update(**claims, updated_at=int(time.time())).where(
                models.User.id == user_id
            ).execute()
        return self.by_id(user_id)

    def change_email(self, user_id: int, email: str) -> None:
        """Set a built-in account's sign-in address, not yet verified; DuplicateEmail when
        another account has it."""
        try:
            with database_proxy.atomic():
                models.User.update(
                    email=email.strip().lower(), email_verified=False, updated_at=int(time.time())
                ).where(models.User.id == user_id).execute()
        except peewee.IntegrityError:
            raise DuplicateEmail(email) from None

    def confirm_email(self, user_id: int, email: str) -> bool:
        """Mark ``email`` verified if it is still the account's address; whether it was."""
        changed = (
            models.User.update(email_verified=True, updated_at=int(time.time()))
            .where((models.User.id == user_id) & (models.User.email == email.strip().lower()))
            .execute()
        )
        return bool(changed)

    def set_email_verified(
        self, email: str, verified: bool, audit: Audit | None = None
    ) -> records.User | None:
        """An administrator vouches for an account's address (or withdraws it), with its
        audit entry in the same transaction; None if there is no such user."""
        now = int(time.time())
        address = email.strip().lower()
        with write_transaction(database_proxy):
            changed = (
                models.User.update(email_verified=verified, updated_at=now)
                .where(models.User.email == address)
                .execute()
            )
            if changed:
                _record(audit, address, now)
        return self.by_email(address) if changed else None

    def set_admin(
        self, email: str, is_admin: bool, audit: Audit | None = None
    ) -> records.User | None:
        """Grant or withdraw the administrator flag, with its audit entry in the same
        transaction; None if there is no such user."""
        now = int(time.time())
        with write_transaction(database_proxy):
            changed = (
                models.User.update(is_admin=is_admin, updated_at=now)
                .where(models.User.email == email.strip().lower())
                .execute()
            )
            if changed:
                _record(audit, email.strip().lower(), now)
        return self.by_email(email) if changed else None

    def search(
        self, text: str = "", status: str = "", limit: int = 100, offset: int = 0
    ) -> list[records.User]:
        """Users whose email or name contains ``text`` (and with ``status``, if given), by
        email (host accounts, without one, last), then by id."""
        user = models.User
        query = user.select()
        if text:
            needle = text.lower()
            query = query.where(
                peewee.fn.LOWER(user.email).contains(needle)
                | peewee.fn.LOWER(user.name).contains(needle)
                | (user.subject == text)
            )
        if status:
            query = query.where(user.status == status)
        rows = query.order_by(user.email.is_null(), user.email, user.id).limit(limit).offset(offset)
        return [convert.user(row) for row in rows]

    def set_status(self, user_id: int, status: str, audit: Audit | None = None) -> bool:
        """Change the account's status (and ``status_changed_at``) with its audit entry in
        the same transaction; False, and nothing written, if it had this status already."""
        now = int(time.time())
        user = models.User
        with write_transaction(database_proxy):
            changed = (
                user.update(status=status, status_changed_at=now, updated_at=now)
                .where((user.id == user_id) & (user.status != status))
                .execute()
            )
            if changed:
                _record(audit, self._target(user_id), now)
        return bool(changed)

    def set_flags(
        self, user_id: int, flags: dict[str, bool], audit: Audit | None = None
    ) -> records.User | None:
        """Set ``email_verified`` and/or ``is_admin``, with the audit entry, in one
        transaction; None if there is no such user."""
        if not set(flags) <= {"email_verified", "is_admin"}:
            raise ValueError(f"not a flag: {sorted(set(flags) - {'email_verified', 'is_admin'})}")
        now = int(time.time())
        with write_transaction(database_proxy):
            changed = (
                models.User.update(**flags, updated_at=now)
                .where(models.User.id == user_id)
                .execute()
            )
            if changed:
                _record(audit, self._target(user_id), now)
        return self.by_id(user_id) if changed else None

    @staticmethod
    def _target(user_id: int) -> str:
        """How the audit log names an account: its email, else its ``sub``."""
        row = models.User.get(models.User.id == user_id)
        return str(row.email) if row.email else f"sub:{row.subject}"
