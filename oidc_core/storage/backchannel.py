"""Back-Channel Logout deliveries: logout tokens waiting to be POSTed to clients.

A delivery is queued with the sign-out (:meth:`SessionStore.end`); senders in any process
claim a due one with a conditional UPDATE (so two never send it at once), then mark it
delivered or reschedule it.
"""

from __future__ import annotations

import time

import peewee

from .. import records
from . import models
from .db import database_proxy, write_transaction


class DeliveryStore:
    def due(self, limit: int = 20) -> list[records.LogoutDelivery]:
        """Undelivered deliveries whose next attempt is due, oldest first."""
        rows = (
            models.BackchannelDelivery.select(models.BackchannelDelivery, models.Client)
            .join(models.Client)
            .where(
                models.BackchannelDelivery.delivered_at.is_null()
                & (models.BackchannelDelivery.next_attempt_at <= int(time.time()))
            )
            .order_by(models.BackchannelDelivery.next_attempt_at, models.BackchannelDelivery.id)
            .limit(limit)
        )
        return [
            records.LogoutDelivery(
                id=row.id,
                uri=row.client.backchannel_logout_uri,
                logout_token=row.logout_token,
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at or 0,
            )
            for row in rows
        ]

    def next_attempt_at(self) -> int | None:
        """When the earliest delivery still to be attempted is due (epoch seconds, maybe
        past); None when none is left."""
        table = models.BackchannelDelivery
        earliest = (
            table.select(peewee.fn.MIN(table.next_attempt_at))
            .where(table.delivered_at.is_null() & table.next_attempt_at.is_null(False))
            .scalar()
        )
        return None if earliest is None else int(earliest)

    def claim(self, delivery: records.LogoutDelivery, lease: int) -> bool:
        """Take ``delivery`` for one attempt (counted now; due again after ``lease``
        seconds should this sender die); False if another sender took it first."""
        table = models.BackchannelDelivery
        with write_transaction(database_proxy):
            updated = (
                table.update(attempts=table.attempts + 1, next_attempt_at=int(time.time()) + lease)
                .where(
                    (table.id == delivery.id)
                    & (table.next_attempt_at == delivery.next_attempt_at)
                    & (table.logout_token == delivery.logout_token)
                    & table.delivered_at.is_null()
                )
                .execute()
            )
        return bool(updated == 1)

    def delivered(self, delivery: records.LogoutDelivery) -> None:
        """After the claimed attempt of ``delivery`` succeeded."""
        models.BackchannelDelivery.update(
            delivered_at=int(time.time()), next_attempt_at=None
        ).where(_claimed(delivery)).execute()

    def reschedule(self, delivery: records.LogoutDelivery, next_attempt_at: int | None) -> None:
        """After the claimed attempt failed: try again at ``next_attempt_at``; None: give up."""
        models.BackchannelDelivery.update(next_attempt_at=next_attempt_at).where(
            _claimed(delivery)
        ).execute()


def _claimed(delivery: records.LogoutDelivery) -> peewee.Expression:
    """The row of ``delivery`` as its claim left it (not a later row under a reused id)."""
    table = models.BackchannelDelivery
    return (
        (table.id == delivery.id)
        & (table.attempts == delivery.attempts + 1)
        & (table.logout_token == delivery.logout_token)
        & table.delivered_at.is_null()
    )
