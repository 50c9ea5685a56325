"""Second factors as stored: the TOTP credential, recovery codes, and what a user has.

A one-time code is accepted at most once: :meth:`FactorStore.advance_totp` moves the
credential's ``last_step`` forward with one conditional UPDATE, so of two requests with
the same code (or with codes of the same or an older step) only one can win, on every
backend.  A recovery code is spent the same way (``used_at`` set where it was null).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from peewee import fn

from . import models
from .db import database_proxy, write_transaction


@dataclass(frozen=True)
class TotpSecret:
    """A user's TOTP credential: its base32 ``secret``, whether the user confirmed it with
    a first code, and the newest time step accepted."""

    secret: str
    confirmed: bool
    last_step: int
    created_at: int


@dataclass(frozen=True)
class Enrolled:
    """The second factors a user has: a confirmed TOTP, how many WebAuthn credentials
    and how many unused recovery codes."""

    totp: bool = False
    webauthn: int = 0
    recovery_codes: int = 0

    @property
    def any(self) -> bool:
        """Whether the user has a factor to sign in with (recovery codes alone are none:
        they stand in for a factor that was lost)."""
        return self.totp or self.webauthn > 0


class FactorStore:
    def enrolled(self, user_id: int) -> Enrolled:
        """What second factors ``user_id`` has (one query)."""
        totp = models.TotpCredential
        webauthn = models.WebAuthnCredential
        codes = models.RecoveryCode
        row = (
            models.User.select(
                totp.select(fn.COUNT(totp.id))
                .where((totp.user == user_id) & totp.confirmed_at.is_null(False))
                .alias("totp"),
                webauthn.select(fn.COUNT(webauthn.id))
                .where(webauthn.user == user_id)
                .alias("keys"),
                codes.select(fn.COUNT(codes.id))
                .where((codes.user == user_id) & codes.used_at.is_null())
                .alias("codes"),
            )
            .where(models.User.id == user_id)
            .dicts()
            .first()
        )
        if row is None:
            return Enrolled()
        return Enrolled(bool(row["totp"]), int(row["keys"] or 0), int(row["codes"] or 0))

    # -- TOTP ----------------------------------------------------------------------------

    def totp(self, user_id: int) -> TotpSecret | None:
        row = models.TotpCredential.get_or_none(models.TotpCredential.user == user_id)
        if row is None:
            return None
        return TotpSecret(row.secret, row.confirmed_at is not None, row.last_step, row.created_at)

    def start_totp(self, user_id: int, secret: str) -> None:
        """Keep a new, unconfirmed ``secret`` for ``user_id``, replacing an unconfirmed one;
        a confirmed credential is left alone (remove it first)."""
        now = int(time.time())
        table = models.TotpCredential
        with write_transaction(database_proxy):
            table.delete().where((table.user == user_id) & table.confirmed_at.is_null()).execute()
            if table.get_or_none(table.user == user_id) is None:
                table.create(user=user_id, secret=secret, created_at=now)

    def advance_totp(self, user_id: int, step: int, *, confirm: bool = False) -> bool:
        """Accept the code of time ``step``: True if it is later than every step accepted
        before (the credential confirmed when ``confirm``), False if not (a replay)."""
        table = models.TotpCredential
        changes: dict[str, int] = {"last_step": step}
        where = (table.user == user_id) & (table.last_step < step)
        if confirm:
            changes["confirmed_at"] = int(time.time())
            where &= table.confirmed_at.is_null()
        else:
            where &= table.confirmed_at.is_null(False)
        with database_proxy.atomic():
            updated = table.update(changes).where(where).execute()
        return bool(updated == 1)

    def remove_totp(self, user_id: int) -> bool:
        """Remove the user's TOTP credential; False if there was none."""
        table = models.TotpCredential
        with database_proxy.atomic():
            return bool(table.delete().where(table.user == user_id).execute())

    # -- recovery codes ------------------------------------------------------------------

    def replace_recovery_codes(self, user_id: int, digests: Sequence[str]) -> None:
        """The user's recovery codes become ``digests``; every earlier code dies."""
        now = int(time.time())
        table = models.RecoveryCode
        with write_transaction(database_proxy):
            table.delete().where(table.user == user_id).execute()
            table.insert_many(
                [{"user": user_id, "code_digest": d, "created_at": now} for d in digests]
            ).execute()

    def remove_recovery_codes(self, user_id: int) -> None:
        table = models.RecoveryCode
        with database_proxy.atomic():
            table.delete().where(table.user == user_id).execute()

    def spend_recovery_code(self, user_id: int, code_digest: str) -> bool:
        """Mark the user's unused code with ``code_digest`` used: True once, then False."""
        table = models.RecoveryCode
        with database_proxy.atomic():
            updated = (
                table.update(used_at=int(time.time()))
                .where(
                    (table.user == user_id)
                    & (table.code_digest == code_digest)
                    & table.used_at.is_null()
                )
                .execute()
            )
        return bool(updated == 1)
