"""Signing keys, with their rotation state (next, current, retired).

Per algorithm there is at most one ``next`` and one ``current`` key (a unique partial index,
schema version 4), so two processes rotating at once cannot both promote: the loser's
conditional UPDATE changes no row or its INSERT violates the index, and its transaction
rolls back without a trace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import peewee

from .. import records
from . import models
from .db import database_proxy, write_transaction


class RotationRefused(Exception):
    """The rotation did not happen: another process rotated first, or the next key is too
    young to have reached every process's key cache.  Nothing was changed."""


@dataclass(frozen=True)
class Rotation:
    """What one rotation step did (kids; ``promoted``/``retired`` are None when the step
    only published a next key)."""

    published: str
    promoted: str | None = None
    retired: str | None = None


def _record(row: models.SigningKey) -> records.KeyRecord:
    return records.KeyRecord(
        kid=row.kid,
        alg=row.alg,
        private_pem=row.private_pem,
        state=row.state,
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
    )


class KeyStore:
    def all(self) -> list[records.KeyRecord]:
        rows = models.SigningKey.select().order_by(models.SigningKey.created_at.desc())
        return [_record(row) for row in rows]

    def has_current(self) -> bool:
        """Whether a key signs now (``oidc-core init`` creates the first one)."""
        return bool(models.SigningKey.select().where(models.SigningKey.state == "current").exists())

    def add(self, kid: str, alg: str, private_pem: str, state: str = "current") -> None:
        now = int(time.time())
        models.SigningKey.create(
            kid=kid,
            alg=alg,
            private_pem=private_pem,
            state=state,
            created_at=now,
            activated_at=now if state == "current" else None,
            retired_at=now if state == "retired" else None,
        )

    def rotate(
        self,
        alg: str,
        new_kid: str,
        new_pem: str,
        *,
        min_next_age: int = 0,
        activated_before: int | None = None,
    ) -> Rotation:
        """One step: promote the next key (if it is at least ``min_next_age`` seconds old),
        retire the current one, publish ``new_kid`` as the next key.  Without a next key,
        only publish one (as current if there is no current key either).

        ``activated_before``: rotate only if the current key became current before then
        (automatic rotation: a second process arriving just after the first does nothing).
        Raises :class:`RotationRefused` with nothing changed.
        """
        now = int(time.time())
        key = models.SigningKey
        try:
            with write_transaction(database_proxy):
                live = {
                    row.state: row
                    for row in key.select().where(
                        (key.alg == alg) & key.state.in_(["next", "current"])
                    )
                }
                current, upcoming = live.get("current"), live.get("next")
                if activated_before is not None and (
                    current is None or (current.activated_at or 0) >= activated_before
                ):
                    raise RotationRefused("the current key is not due for rotation")
                if upcoming is None:
                    state = "next" if current else "current"
                    self.add(new_kid, alg, new_pem, state=state)
                    return Rotation(published=new_kid)
                # created_at is in whole seconds, rounded down: the key may have been
                # published up to a second later.  Its age counts from the end of that
                # second, so that a key is never taken for older than it is.
                age = time.time() - (upcoming.created_at + 1)
                if min_next_age > 0 and age < min_next_age:
                    raise RotationRefused(
                        f"the next key {upcoming.kid} was published less than {min_next_age} s "
                        f"ago; every process must have seen it first"
                    )
                if current is not None:
                    retired = (
                        key.update(state="retired", retired_at=now)
                        .where((key.kid == current.kid) & (key.state == "current"))
                        .execute()
                    )
                    if retired != 1:
                        raise RotationRefused("another process rotated the keys")
                promoted = (
                    key.update(state="current", activated_at=now)
                    .where((key.kid == upcoming.kid) & (key.state == "next"))
                    .execute()
                )
                if promoted != 1:
                    raise RotationRefused("another process rotated the keys")
                self.add(new_kid, alg, new_pem, state="next")
                return Rotation(
                    published=new_kid,
                    promoted=upcoming.kid,
                    retired=current.kid if current else None,
                )
        except peewee.IntegrityError:
            raise RotationRefused("another process rotated the keys") from None

    def delete_retired(self, retired_before: int) -> list[str]:
        """Delete the keys retired before ``retired_before``; their kids."""
        key = models.SigningKey
        with write_transaction(database_proxy):
            condition = (key.state == "retired") & (key.retired_at < retired_before)
            kids = [row.kid for row in key.select(key.kid).where(condition)]
            key.delete().where(condition & key.kid.in_(kids)).execute()
        return kids

    def longest_id_token_ttl(self, default: int) -> int:
        """The longest ID token lifetime any client has (``default`` when none is longer)."""
        longest = models.Client.select(peewee.fn.MAX(models.Client.id_token_ttl)).scalar()
        return max(default, int(longest or 0))
