"""Run requests at the same instant, each in its own thread with its own database connection.

A :class:`Racer` keeps ``count`` threads for a whole test (peewee keeps one connection per
thread, so each thread has its own), and releases each round's calls together with a barrier.
Keeping the threads and their connections across rounds makes hundreds of repetitions cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from oidc_core import Provider

T = TypeVar("T")
BARRIER_SECONDS = 30


class Racer:
    def __init__(self, provider: Provider, pool: ThreadPoolExecutor, count: int) -> None:
        self._provider = provider
        self._pool = pool
        self.count = count

    def run(self, calls: list[Callable[[], T]]) -> list[T]:
        """Each call in its own thread (at most ``count``), released at once; their results."""
        assert 0 < len(calls) <= self.count
        barrier = threading.Barrier(len(calls))
        storage = self._provider.storage

        def worker(call: Callable[[], T]) -> T:
            # Every call waits at the barrier, so no thread can take two calls of a round.
            barrier.wait(timeout=BARRIER_SECONDS)
            try:
                return call()
            finally:
                storage.release()

        return list(self._pool.map(worker, calls))

    def same(self, call: Callable[[], T], times: int | None = None) -> list[T]:
        """``call`` ``times`` times at once (default: once per thread)."""
        return self.run([call] * (times or self.count))


@contextmanager
def racing(provider: Provider, count: int) -> Iterator[Racer]:
    """A :class:`Racer` of ``count`` threads; their connections are closed at the end."""
    pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="race")
    racer = Racer(provider, pool, count)
    try:
        yield racer
    finally:
        close: Callable[[], Any] = provider.storage.close  # each thread's own connection
        try:
            racer.same(close)
        finally:
            pool.shutdown(wait=True)
