"""Failed sign-in counters (``oidc_login_throttle``), shared by every process and host.

Each counter is one row per key (``ip:...``, ``pair:...``, ``account:...``, see
:mod:`oidc_core.throttle`).  Counting is one upsert per key, ``failures = failures + 1``
in SQL, inside a write transaction that takes the keys in a fixed order: two processes
counting at once both count.  InnoDB may still end one of two concurrent upserts of
neighbouring new keys as a deadlock victim (gap locks); that transaction is run again
(:func:`.db.retried_on_deadlock`), so the attempt is counted once all the same.  The
policy (thresholds, lock growth) is the caller's; this module only applies it inside the
transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import models
from .clients import Audit, _record
from .db import database_proxy, retried_on_deadlock, write_transaction
from .hotpath import HotPath

Row = models.LoginThrottle


@dataclass(frozen=True)
class Limit:
    """A counter an attempt is counted on, and the failures that lock it."""

    key: str
    threshold: int


@dataclass(frozen=True)
class Counted:
    """What counting one attempt found.

    ``failures``: each counted key's count including this attempt.  ``refused_by``: the
    first key that was already locked (the attempt must not be evaluated; later keys were
    not counted) and ``locked_until`` its lock.  ``locks_set``: the keys this attempt
    locked, with their ``locked_until`` (it was the threshold-th failure or later)."""

    failures: dict[str, int]
    refused_by: str = ""
    locked_until: int = 0
    locks_set: tuple[tuple[str, int], ...] = ()


LockSeconds = Callable[[int, int], int]  # (failures, threshold) -> lock duration


class ThrottleStore:
    """Every password sign-in counts on three keys and takes back two: prebuilt SQL
    (:mod:`.hotpath`) for those statements."""

    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def count(
        self, limits: Sequence[Limit], now: int, *, window: int, lock_seconds: LockSeconds
    ) -> Counted:
        """Count one failure on each key in order, stopping after the first locked one.

        A counter whose last failure is older than ``window`` (and that is not locked)
        starts again from one.  A key that reaches its threshold is locked from ``now``
        for ``lock_seconds(failures, threshold)``; a failure counted during a lock does
        not lengthen it."""

        def counting() -> Counted:
            failures: dict[str, int] = {}
            locks_set: list[tuple[str, int]] = []
            with write_transaction(database_proxy):
                for limit in limits:
                    count, locked_until = self._increment(limit.key, now, now - window)
                    failures[limit.key] = count
                    if locked_until > now:
                        return Counted(failures, limit.key, locked_until, tuple(locks_set))
                    if count >= limit.threshold:
                        until = now + lock_seconds(count, limit.threshold)
                        Row.update(locked_until=until).where(Row.key == limit.key).execute()
                        locks_set.append((limit.key, until))
            return Counted(failures, locks_set=tuple(locks_set))

        return retried_on_deadlock(counting)

    def _increment(self, key: str, now: int, cutoff: int) -> tuple[int, int]:
        """One more failure for ``key`` (an upsert, atomic; a counter whose last failure
        is before ``cutoff`` and that is not locked starts again); its count and lock."""
        hot = self._hot
        hot.execute(hot.count_failure, (key, now, cutoff, now, now))
        row = hot.fetch_one(hot.counter, (key,))
        if row is None:
            raise RuntimeError(f"the counter {key!r} just written is gone")
        return int(row.failures), int(row.locked_until)

    def counters(self, keys: Sequence[str]) -> dict[str, tuple[int, int]]:
        """``key -> (failures, locked_until)`` for the keys that have a counter.

        Every token request reads its client's counters: plain SQL, without the query
        builder's cost (see :mod:`oidc_core.storage.hotpath`)."""
        rows = self._hot.rows(self._hot.counters(len(keys)), tuple(keys))
        return {key: (int(failures), int(until)) for key, failures, until in rows}

    def succeeded(self, forget: Sequence[str], refund: str = "", refund_lock: int = 0) -> None:
        """A sign-in succeeded: delete the ``forget`` counters; take back the failure
        counted ahead on ``refund`` (and its lock, if that failure set ``refund_lock``)."""

        def forgetting() -> None:
            with write_transaction(database_proxy):
                if refund:
                    self._hot.execute(self._hot.refund_failure, (refund,))
                    if refund_lock:
                        Row.update(locked_until=0).where(
                            (Row.key == refund) & (Row.locked_until == refund_lock)
                        ).execute()
                for key in forget:  # one by one, in the order ``count`` takes them
                    self._hot.execute(self._hot.forget_counter, (key,))

        retried_on_deadlock(forgetting)

    def clear(
        self,
        keys: Sequence[str] = (),
        prefixes: Sequence[str] = (),
        *,
        audit: Audit | None = None,
        target: str = "",
    ) -> int:
        """Delete the counters (and so the locks) of ``keys`` and of every key starting
        with one of ``prefixes``, with an audit entry for ``target``; how many there were."""
        condition = Row.key.in_(list(keys))
        for prefix in prefixes:
            condition |= Row.key.startswith(prefix)
        with write_transaction(database_proxy):
            _record(audit, target, int(time.time()))
            return int(Row.delete().where(condition).execute())
