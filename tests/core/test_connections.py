"""No connection leaks: requests, one after another and from several threads (like
gunicorn's ``gthread`` workers), with and without a pool (``postgresql+pool://``,
``mysql+pool://``), never open more server connections than threads (or the pool's size)
and never leave one idle in a transaction.

PostgreSQL and MySQL/MariaDB: the connections are counted on the server, in
``pg_stat_activity`` by the ``application_name`` the provider under test connects with, in
MySQL's process list by the user it connects as (a user made for the test).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import webtest

from oidc_core import Provider, Settings, backchannel
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from tests.conftest import FAST_PASSWORDS, make_client

THREADS = 6
REQUESTS = 60
POOL_SIZE = 3
POOL_WAIT = 5  # seconds a request waits for a free pooled connection
POOLED = {"postgresql": "postgresql+pool", "postgres": "postgresql+pool", "mysql": "mysql+pool"}


@pytest.fixture
def server_url(database_url: str) -> str:
    if not database_url.startswith(("postgres", "mysql")):
        pytest.skip(
            "counts server connections: set OIDC_TEST_DATABASE_URL to a PostgreSQL or "
            "MySQL/MariaDB URL"
        )
    return database_url


IDLE_IN_TRANSACTION = "idle in transaction"
# MySQL's process list: a connection between statements sleeps; one with a row in
# INNODB_TRX is in a transaction. INNODB_TRX is read from a snapshot that InnoDB refreshes
# only when more than 0.1 s passed since it was last read (MariaDB and MySQL alike), while
# PROCESSLIST is live: a poll faster than that would keep one old snapshot for as long as it
# runs, so only the state checks read INNODB_TRX, each after the snapshot's refresh interval.
INNODB_SNAPSHOT_INTERVAL = 0.1
MYSQL_STATES = (
    "SELECT CASE WHEN p.COMMAND <> 'Sleep' THEN 'active' "
    f"WHEN t.trx_id IS NOT NULL THEN '{IDLE_IN_TRANSACTION}' ELSE 'idle' END "
    "FROM information_schema.PROCESSLIST p "
    "LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID "
    "WHERE p.USER = %s"
)
MYSQL_COUNT = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s"
POSTGRESQL_STATES = (
    "SELECT COALESCE(state, '') FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = %s"
)
POSTGRESQL_COUNT = (
    "SELECT COUNT(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = %s"
)


@dataclass
class Backends:
    """Samples the server connections of one name (PostgreSQL's ``application_name``,
    MySQL's user) while requests run."""

    storage: Storage
    name: str
    mysql: bool = False
    peak: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    snapshot_read_at: float = 0.0  # when INNODB_TRX was last read (MySQL)

    def now(self) -> list[str]:
        """The state of each connection, as the server sees it now."""
        if not self.mysql:
            return self._rows(POSTGRESQL_STATES)
        # wait out the snapshot's refresh interval: InnoDB then takes a new one
        wait = self.snapshot_read_at + INNODB_SNAPSHOT_INTERVAL * 1.5 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self._rows(MYSQL_STATES)
        finally:
            self.snapshot_read_at = time.monotonic()

    def count(self) -> int:
        return int(self._rows(MYSQL_COUNT if self.mysql else POSTGRESQL_COUNT)[0])

    def _rows(self, sql: str) -> list[Any]:
        return [row[0] for row in self.storage.database.execute_sql(sql, (self.name,))]

    def sample(self) -> None:
        try:
            while not self.stop.wait(0.005):
                self.peak = max(self.peak, self.count())
        finally:
            self.storage.close()  # this thread's connection to the test's database


def _named(url: str, name: str, storage: Storage) -> str:
    """``url`` for connections the server can tell apart by ``name``: an
    ``application_name`` on PostgreSQL, a user of the test's database on MySQL."""
    if not url.startswith("mysql"):
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}application_name={name}"
    database = storage.database.database
    storage.database.execute_sql(f"CREATE USER '{name}'@'%%'")
    storage.database.execute_sql(f"GRANT ALL ON `{database}`.* TO '{name}'@'%%'")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{name}@{parts.netloc.rsplit('@', 1)[-1]}"))


def _provider(url: str, name: str, storage: Storage) -> Iterator[tuple[Provider, Backends]]:
    mysql = url.startswith("mysql")
    own = Storage(_named(url, name, storage))  # binds the models to it
    settings = Settings(issuer="https://op.example", database_url=url, **FAST_PASSWORDS)
    provider = Provider(settings, storage=own)
    backends = Backends(storage, name, mysql=mysql)
    try:
        yield provider, backends
    finally:
        own.close()
        if hasattr(own.database, "close_all"):
            own.database.close_all()
        database_proxy.initialize(storage.database)  # the models back on the test's database
        if mysql:
            storage.database.execute_sql(f"DROP USER '{name}'@'%%'")


@pytest.fixture(params=["plain", "pool"])
def served(
    request: pytest.FixtureRequest, server_url: str, storage: Storage
) -> Iterator[tuple[Provider, Backends, int]]:
    name = f"oidc_leak_{secrets.token_hex(4)}"
    if request.param == "pool":
        scheme, rest = server_url.split(":", 1)
        url = f"{POOLED[scheme]}:{rest}"
        url += f"?max_connections={POOL_SIZE}&stale_timeout=300&timeout={POOL_WAIT}"
        limit = POOL_SIZE
    else:
        url, limit = server_url, THREADS + 1  # the test's thread makes requests too
    for provider, backends in _provider(url, name, storage):
        yield provider, backends, limit


def _requests(app: webtest.TestApp, count: int) -> list[int]:
    """Requests that read and write: a token lookup, a failed client authentication (its
    counters are written in a transaction), the key set."""
    statuses = []
    for n in range(count):
        if n % 3 == 0:
            response = app.get(
                "/userinfo", headers={"Authorization": "Bearer unknown-token"}, expect_errors=True
            )
        elif n % 3 == 1:
            response = app.post(
                "/token",
                {"grant_type": "authorization_code", "code": "x", "client_id": f"nobody{n}"},
                expect_errors=True,
            )
        else:
            response = app.get("/jwks")
        statuses.append(response.status_int)
    return statuses


def test_building_a_provider_leaves_no_connection_open(
    served: tuple[Provider, Backends, int],
) -> None:
    """The provider checks the schema when it is built and closes the connection it opened
    for it, a pooled one too: a process that forks workers afterwards (gunicorn's
    ``--preload``) hands them none to share."""
    _, backends, _ = served
    deadline = time.monotonic() + 5  # a closed connection's backend takes a moment to exit
    while backends.now() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert backends.now() == []


def test_requests_never_leak_connections_or_leave_a_transaction_open(
    served: tuple[Provider, Backends, int],
) -> None:
    provider, backends, limit = served
    sampler = threading.Thread(target=backends.sample)
    sampler.start()
    try:
        sequential = _requests(webtest.TestApp(provider), REQUESTS)
        after_sequential = backends.now()

        # every thread is serving at once: a thread that kept its pooled connection between
        # requests would starve the others (503 after the pool's wait)
        together = threading.Barrier(THREADS)

        def worker(_: int) -> list[int]:
            app = webtest.TestApp(provider)
            try:
                first = _requests(app, REQUESTS // 2)
                together.wait(timeout=60)
                return first + _requests(app, REQUESTS - REQUESTS // 2)
            finally:
                provider.storage.close()  # the thread ends: its own connection, if any

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            threaded = [
                status for statuses in pool.map(worker, range(THREADS)) for status in statuses
            ]
        after_threads = backends.now()
    finally:
        backends.stop.set()
        sampler.join()

    # 429: the failed client authentications lock their counters; never a 5xx
    assert set(sequential) | set(threaded) <= {200, 401, 429}, "no 5xx, no pool exhaustion"
    assert len(threaded) == THREADS * REQUESTS
    assert len(after_sequential) <= 1
    assert 1 <= backends.peak <= limit, (backends.peak, limit)
    assert len(after_threads) <= limit
    # between two statements of a transaction a backend is briefly "idle in transaction";
    # once the requests are answered none may stay so
    assert IDLE_IN_TRANSACTION not in set(after_sequential) | set(after_threads)


def test_the_back_channel_sender_holds_no_connection_while_it_waits(
    server_url: str, storage: Storage
) -> None:
    """A delivery waiting for its retry keeps the sender thread alive, not a backend; the
    thread ends when no delivery is left."""
    name = f"oidc_sender_{secrets.token_hex(4)}"
    for provider, backends in _provider(server_url, name, storage):
        rp = make_client(
            provider.storage,
            "Unreachable",
            ["https://rp.example/cb"],
            backchannel_logout_uri="http://127.0.0.1:9/logout",  # refused at once
        )
        client = provider.storage.clients.by_client_id(rp.client_id)
        assert client is not None
        token = backchannel.logout_token(provider, client, "someone", "a-session")
        provider.storage.sessions.end(0, [(client.id, token)])
        provider.storage.close()  # the test's own connection: only the sender's may count

        provider.backchannel.wake()
        deadline = time.monotonic() + 10
        while provider.backchannel.running and _attempts(storage) == 0:
            assert time.monotonic() < deadline, "the first attempt was made"
            time.sleep(0.02)
        time.sleep(0.2)  # the round ends: the thread now waits for the retry
        assert provider.backchannel.running, "a retry is due later: the thread waits for it"
        assert backends.now() == []

        provider.storage.database.execute_sql(
            "UPDATE oidc_backchannel_delivery SET next_attempt_at = NULL"
        )  # given up: nothing left
        provider.storage.close()
        provider.backchannel.wake()
        deadline = time.monotonic() + 10
        while provider.backchannel.running:
            assert time.monotonic() < deadline, "the thread ends when nothing is left"
            time.sleep(0.02)
        assert backends.now() == []


def _attempts(storage: Storage) -> int:
    sql = "SELECT COALESCE(SUM(attempts), 0) FROM oidc_backchannel_delivery"
    return int(storage.database.execute_sql(sql).fetchone()[0])  # the test's own connection
