"""A fault injector at the driver boundary, for the fault tests (SECURITY-CHECKLIST F).

:class:`Faults` wraps one peewee ``Database`` object, the one the provider under test uses
(the suite's ``storage.database``).  It replaces three methods on that instance only, for the
duration of a ``with`` block: ``begin`` (``BEGIN`` / ``BEGIN IMMEDIATE``), ``execute_sql``
(every query, every ``SAVEPOINT``) and ``commit``.  Those are the points where a real
database can fail: a statement is refused, the connection is cut, the commit does not
happen.  The injected failure is a ``peewee.OperationalError`` raised *instead of* sending
the statement, exactly what peewee raises when the server is gone.  Rollback is never
failed: it is how a transaction ends after a fault, and a database that loses the
connection rolls back anyway.  Nothing of the provider is replaced.

Use it in three steps, so that every "between two statements" of an operation is covered::

    faults = Faults(storage.database)
    with faults.counting() as seen:          # the operation once, to learn its statements
        do_it()
    for n in range(1, seen.count + 1):        # then fail at each of them in turn
        with faults.failing_at(n) as fault:
            do_it()                           # ... expect a 503 and nothing written
        assert fault.fired

``faults.down()`` fails every statement: the database is unreachable.

Only the statements of the thread that entered the block count (WebTest runs the provider in
the test's thread): a background thread of the provider, such as the back-channel logout
sender polling its table, goes through untouched and never shifts the count.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import peewee

POINTS = ("begin", "execute_sql", "commit")


@dataclass
class Seen:
    """What went through the wrapped methods during one ``with`` block."""

    fail_at: int | None = None  # 1-based index of the point that fails; 0: all of them
    count: int = 0
    statements: list[str] = field(default_factory=list)
    fired: str = ""  # the statement that was made to fail

    def passes(self, statement: str) -> bool:
        self.count += 1
        self.statements.append(statement)
        if self.fail_at == 0 or self.count == self.fail_at:
            self.fired = self.fired or statement
            return False
        return True


class Faults:
    """Make the statements of one database fail on demand (see the module docstring)."""

    def __init__(self, database: Any) -> None:
        if isinstance(database, peewee.DatabaseProxy):
            database = database.obj
        self.database = database

    @contextlib.contextmanager
    def counting(self) -> Iterator[Seen]:
        """Let everything through; count and record it."""
        with self._wrapped(Seen()) as seen:
            yield seen

    @contextlib.contextmanager
    def failing_at(self, index: int) -> Iterator[Seen]:
        """Fail the ``index``-th point (1-based) reached inside the block, once."""
        if index < 1:
            raise ValueError("statement indexes start at 1")
        with self._wrapped(Seen(fail_at=index)) as seen:
            yield seen

    @contextlib.contextmanager
    def down(self) -> Iterator[Seen]:
        """Fail every point: the database is unreachable."""
        with self._wrapped(Seen(fail_at=0)) as seen:
            yield seen

    @contextlib.contextmanager
    def _wrapped(self, seen: Seen) -> Iterator[Seen]:
        db = self.database
        originals = {name: getattr(db, name) for name in POINTS}
        owner = threading.get_ident()

        def begin(*args: Any, **kwargs: Any) -> Any:
            return guarded("BEGIN", originals["begin"], *args, **kwargs)

        def execute_sql(sql: str, *args: Any, **kwargs: Any) -> Any:
            return guarded(sql, originals["execute_sql"], sql, *args, **kwargs)

        def commit(*args: Any, **kwargs: Any) -> Any:
            return guarded("COMMIT", originals["commit"], *args, **kwargs)

        def guarded(statement: str, original: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != owner:
                return original(*args, **kwargs)
            if not seen.passes(statement):
                raise peewee.OperationalError(f"injected fault at statement {seen.count}")
            return original(*args, **kwargs)

        db.begin, db.execute_sql, db.commit = begin, execute_sql, commit
        try:
            yield seen
        finally:
            for name in POINTS:
                delattr(db, name)  # the class's methods again
