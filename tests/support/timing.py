"""Time bounds in tests that are robust on a loaded machine.

A bound on one run fails whenever the machine is busy; the fastest of a few runs measures
the work itself (the scheduler can only make a run slower, never faster).  Use it only where
the security checklist asks for a bound; targets belong in ``bench/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def fastest_of(runs: int, call: Callable[[], T]) -> tuple[float, T]:
    """The shortest wall time of ``runs`` calls (seconds) and the last call's result."""
    best = float("inf")
    result: T
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result
