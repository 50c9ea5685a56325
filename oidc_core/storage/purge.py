"""Deleting rows nobody needs any more (``oidc-core purge``), in short batches.

Nothing else deletes expired rows; run the purge from cron or a systemd timer.  Each
table's rule says when a row is no longer needed, and ``grace`` seconds are kept on top
(the provider compares times with its own clock; the grace also keeps a little history to
look at after an incident):

- pending authorizations: the login/consent interaction's lifetime (``expires_at``);
- browser sessions: ``expires_at`` (their pending authorizations go with them);
- access tokens: ``expires_at``, revoked or not (a revoked token answers "inactive" like
  an unknown one);
- refresh tokens, used, revoked or idle-expired: the grant's absolute expiry
  (``absolute_expires_at``).  A used token is what detects a replay (a stolen token used
  after its successor was issued revokes the whole grant), and a grant cannot live longer
  than its absolute expiry, so until then every token of the family is kept;
- authorization codes: ``expires_at`` **and** no access or refresh token of their grant
  kept (by the rules above).  A replayed code revokes the tokens issued from it, so a code
  stays as long as any of them; the grant's tokens are named by the code's id
  (``grant_id``), which must not be reused while tokens carry it (SQLite hands out the
  highest id again once it is deleted);
- consents with a lifetime: ``expires_at`` (never for a consent without one);
- back-channel logout deliveries: delivered (``delivered_at``) or given up (no next
  attempt, ``created_at``); never one still being tried;
- values shown once (a new client secret for the console's next page): ``expires_at``
  (minutes after they were kept; a value is deleted when it is shown);
- links sent by email (password reset, address verification): ``expires_at``, used or not
  (a used link is refused like an unknown one);
- sign-in failure counters: not locked and the last failure older than the failure window
  (``login_failure_window``): such a counter starts again from one anyway, so no grace.

Each batch (``batch_size`` rows) is one short write transaction, so the purge never holds
locks for long and can run next to the provider.  The delete repeats the rule, so a row
that changed since it was picked (a counter counting again) is left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from . import models
from .db import database_proxy, write_transaction

Condition = Callable[["Cutoffs"], peewee.Expression]


@dataclass(frozen=True)
class Cutoffs:
    """Rows that expired before ``expired`` are past their grace period."""

    now: int
    expired: int
    failure_window: int


def _pending(c: Cutoffs) -> peewee.Expression:
    return models.PendingAuthorization.expires_at < c.expired


def _sessions(c: Cutoffs) -> peewee.Expression:
    return models.BrowserSession.expires_at < c.expired


def _access_tokens(c: Cutoffs) -> peewee.Expression:
    return models.AccessToken.expires_at < c.expired


def _refresh_tokens(c: Cutoffs) -> peewee.Expression:
    return models.RefreshToken.absolute_expires_at < c.expired


def _codes(c: Cutoffs) -> peewee.Expression:
    code, access, refresh = models.AuthorizationCode, models.AccessToken, models.RefreshToken
    kept_access = ~_access_tokens(c)
    return (
        (code.expires_at < c.expired)
        & code.id.not_in(
            access.select(access.grant_id).where(access.grant_id.is_null(False) & kept_access)
        )
        & code.id.not_in(access.select(access.code).where(access.code.is_null(False) & kept_access))
        & code.id.not_in(refresh.select(refresh.grant_id).where(~_refresh_tokens(c)))
    )


def _consents(c: Cutoffs) -> peewee.Expression:
    consent = models.Consent
    return consent.expires_at.is_null(False) & (consent.expires_at < c.expired)


def _deliveries(c: Cutoffs) -> peewee.Expression:
    delivery = models.BackchannelDelivery
    given_up = (
        delivery.delivered_at.is_null()
        & delivery.next_attempt_at.is_null()
        & (delivery.created_at < c.expired)
    )
    return (delivery.delivered_at < c.expired) | given_up


def _one_time_values(c: Cutoffs) -> peewee.Expression:
    return models.OneTimeValue.expires_at < c.expired


def _account_links(c: Cutoffs) -> peewee.Expression:
    return models.AccountLink.expires_at < c.expired


def _throttle(c: Cutoffs) -> peewee.Expression:
    counter = models.LoginThrottle
    return (counter.locked_until <= c.now) & (counter.last_failure_at < c.now - c.failure_window)


# In this order: tokens before the codes they keep alive, sessions after their pending
# authorizations and values shown once (deleting a session would delete them anyway).
RULES: tuple[tuple[type[models.BaseModel], Condition], ...] = (
    (models.PendingAuthorization, _pending),
    (models.OneTimeValue, _one_time_values),
    (models.BrowserSession, _sessions),
    (models.AccessToken, _access_tokens),
    (models.RefreshToken, _refresh_tokens),
    (models.AuthorizationCode, _codes),
    (models.Consent, _consents),
    (models.BackchannelDelivery, _deliveries),
    (models.LoginThrottle, _throttle),
    (models.AccountLink, _account_links),
)


def purge(
    *,
    grace: int,
    failure_window: int,
    batch_size: int = 1000,
    dry_run: bool = False,
    now: int | None = None,
) -> dict[str, int]:
    """Delete (or with ``dry_run`` only count) the rows past retention, per table name."""
    if grace < 0 or batch_size < 1:
        raise ValueError("grace must not be negative and batch_size must be positive")
    moment = int(time.time()) if now is None else now
    cutoffs = Cutoffs(now=moment, expired=moment - grace, failure_window=failure_window)
    counts: dict[str, int] = {}
    for model, condition in RULES:
        name = model._meta.table_name
        if dry_run:
            counts[name] = int(model.select().where(condition(cutoffs)).count())
        else:
            counts[name] = _delete_in_batches(model, condition, cutoffs, batch_size)
    return counts


def _delete_in_batches(
    model: type[models.BaseModel], condition: Condition, cutoffs: Cutoffs, batch_size: int
) -> int:
    deleted = 0
    while True:
        batch = (
            model.select(model.id).where(condition(cutoffs)).order_by(model.id).limit(batch_size)
        )
        with write_transaction(database_proxy):
            ids = [row.id for row in batch]
            if not ids:
                return deleted
            count = int(model.delete().where(model.id.in_(ids) & condition(cutoffs)).execute())
        deleted += count
        if len(ids) < batch_size:
            return deleted
