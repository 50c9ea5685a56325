"""Second factors as stored: the TOTP credential, recovery codes, and what a user has.

A one-time code is accepted at most once: :meth:`FactorStore.advance_totp` moves the
credential's ``last_step`` forward with one conditional UPDATE, so of two requests with
the same code (or with codes of the same or an older step) only one can win, on every
backend.  A recovery code is spent the same way (``used_at`` set where it was null).
Every sign-in asks what factors its user has, and every second step reads and spends a
code: those statements are prebuilt SQL (:mod:`.sql`), like the other sign-in statements.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from . import models
from .db import database_proxy, write_transaction
from .hotpath import HotPath
from .sql import Table, fill

TABLES = {
    "totp": Table(models.TotpCredential),
    "webauthn": Table(models.WebAuthnCredential),
    "recovery": Table(models.RecoveryCode),
}


@dataclass(frozen=True)
class TotpSecret:
    """A user's TOTP credential: its base32 ``secret``, whether the user confirmed it with
    a first code, the newest time step accepted, and when it was made."""

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
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot
        p = hot.param

        def sql(template: str) -> str:
            return fill(template, p, **TABLES)

        self._enrolled = sql(
            "SELECT (SELECT COUNT(*) FROM {totp} WHERE {totp:user} = {p} "
            "AND {totp:confirmed_at} IS NOT NULL), "
            "(SELECT COUNT(*) FROM {webauthn} WHERE {webauthn:user} = {p}), "
            "(SELECT COUNT(*) FROM {recovery} WHERE {recovery:user} = {p} "
            "AND {recovery:used_at} IS NULL)"
        )
        self._totp = sql(
            "SELECT {totp:secret}, {totp:confirmed_at}, {totp:last_step}, {totp:created_at} "
            "FROM {totp} WHERE {totp:user} = {p}"
        )
        self._advance = sql(
            "UPDATE {totp} SET {totp:last_step} = {p} WHERE {totp:user} = {p} "
            "AND {totp:last_step} < {p} AND {totp:confirmed_at} IS NOT NULL"
        )
        self._spend = sql(
            "UPDATE {recovery} SET {recovery:used_at} = {p} WHERE {recovery:user} = {p} "
            "AND {recovery:code_digest} = {p} AND {recovery:used_at} IS NULL"
        )

    def enrolled(self, user_id: int) -> Enrolled:
        """What second factors ``user_id`` has (one statement)."""
        totp, keys, codes = self._hot.rows(self._enrolled, (user_id, user_id, user_id))[0]
        return Enrolled(bool(totp), int(keys), int(codes))

    # -- TOTP ----------------------------------------------------------------------------

    def totp(self, user_id: int) -> TotpSecret | None:
        rows = self._hot.rows(self._totp, (user_id,))
        if not rows:
            return None
        secret, confirmed_at, last_step, created_at = rows[0]
        return TotpSecret(secret, confirmed_at is not None, last_step, created_at)

    def add_totp(self, user_id: int, secret: str, step: int) -> bool:
        """Turn on ``secret``, confirmed by its first code (of time ``step``, so that code
        is spent): True, or False when the user has a confirmed credential already (two
        confirmations at once: one wins).  The secret was kept by the browser session that
        set it up; the table holds confirmed credentials only."""
        now = int(time.time())
        table = models.TotpCredential
        try:
            with write_transaction(database_proxy):
                found = table.get_or_none(table.user == user_id)
                if found is not None and found.confirmed_at is not None:
                    return False
                if found is not None:  # unconfirmed, as older versions kept them: replaced
                    table.delete().where(table.id == found.id).execute()
                table.create(
                    user=user_id, secret=secret, created_at=now, confirmed_at=now, last_step=step
                )
        except peewee.IntegrityError:  # the other confirmation inserted first
            return False
        return True

    def advance_totp(self, user_id: int, step: int) -> bool:
        """Accept the code of time ``step``: True if it is later than every step accepted
        before, False if not (a replay)."""
        with database_proxy.atomic():
            return self._hot.execute(self._advance, (step, user_id, step)) == 1

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
        with database_proxy.atomic():
            params = (int(time.time()), user_id, code_digest)
            return self._hot.execute(self._spend, params) == 1
