"""A database that blocks becomes a quick 503, never a hung worker (T-71).

Another connection holds the write lock the token request needs (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: ``LOCK TABLE``; MySQL and MariaDB: every code's row lock, ``SELECT
... FOR UPDATE``), as a long transaction or a stuck migration would.
The provider under test has ``database_statement_timeout_ms`` = 300: its request must end
in a 503 well before gunicorn's 30 s worker timeout, and the code it could not redeem stays
redeemable once the lock is gone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from oidc_core import Provider
from oidc_core.storage import NewCode, Storage, StorageError
from oidc_core.storage.db import database_proxy, open_database
from oidc_core.storage.mysql import timeout_settings
from tests.conftest import FAST_PASSWORDS
from tests.support.fault_injection import is_unavailable_json
from tests.support.flow import RP, Account, Flow
from tests.support.mounts import MountedApp, build, settings_for

# The database connection's bound, which no mount changes: one mount
# (test_faults.py and test_fault_injection_endpoints.py answer 503s through every mount).
pytestmark = pytest.mark.mounts("one")

TIMEOUT_MS = 300
BOUND_SECONDS = 10  # generous on a loaded 2-core machine; the worker timeout is 30 s


@pytest.fixture
def impatient(mount_name: str, database_url: str, storage: Storage) -> Iterator[MountedApp]:
    """The suite's database, served by a provider that waits at most TIMEOUT_MS."""
    settings = settings_for(
        mount_name, database_url, database_statement_timeout_ms=TIMEOUT_MS, **FAST_PASSWORDS
    )
    own = Storage(database_url, statement_timeout_ms=settings.database_statement_timeout_ms)
    try:
        yield build(mount_name, settings, own).browser()
    finally:
        own.close()
        database_proxy.initialize(storage.database)  # give the suite its database back


@contextlib.contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Another connection holding the lock every write of a token request needs."""
    holder = open_database(database_url)
    if database_url.startswith("sqlite"):
        holder.execute_sql("BEGIN IMMEDIATE")
    elif database_url.startswith("mysql"):
        holder.execute_sql("BEGIN")
        holder.execute_sql("SELECT id FROM oidc_authorization_code FOR UPDATE").fetchall()
    else:
        holder.execute_sql("BEGIN")
        holder.execute_sql("LOCK TABLE oidc_authorization_code IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.execute_sql("ROLLBACK")
        holder.close()


def test_t71_a_statement_blocked_by_a_lock_is_a_quick_503_and_loses_nothing(
    app: MountedApp,
    impatient: MountedApp,
    database_url: str,
    client_a: RP,
    alice: Account,
) -> None:
    code = Flow(app, client_a, alice).authorize()["code"]
    redeem = Flow(impatient, client_a, alice)
    with write_lock(database_url):
        started = time.monotonic()
        response = redeem.token(code)
        elapsed = time.monotonic() - started
    assert is_unavailable_json(response), (response.status, response.text[:300])
    assert elapsed < BOUND_SECONDS
    assert redeem.token(code).status_int == 200  # the lock gone: redeemable, once
    assert redeem.token(code).json["error"] == "invalid_grant"


def test_a_lock_wait_beyond_the_bound_is_a_storage_error(
    database_url: str, storage: Storage, client_a: RP
) -> None:
    """The bound on lock waits alone: on MariaDB, with ``max_statement_time`` off, InnoDB's
    lock wait timeout (error 1205, whole seconds) ends the wait; the transaction is rolled
    back and the code stays unused."""
    client = storage.clients.by_client_id(client_a.client_id)
    user = storage.users.create("locked@example.com", "not a hash")
    assert client is not None
    code = NewCode(
        code="code",
        client_pk=client.id,
        user_id=user.id,
        redirect_uri=client_a.redirect_uris[0],
        scopes=("openid",),
        nonce=None,
        claims=None,
        code_challenge=None,
        code_challenge_method=None,
        auth_time=int(time.time()),
        ttl=60,
    )
    storage.grants.issue_code(None, code, remember_scopes=False)
    own = Storage(database_url, statement_timeout_ms=TIMEOUT_MS)
    try:
        if database_url.startswith("mysql") and is_mariadb(own):
            own.database.execute_sql("SET SESSION max_statement_time = 0")
        with (
            write_lock(database_url),
            pytest.raises(StorageError) as failure,
            own.database.atomic(),
        ):
            own.database.execute_sql("UPDATE oidc_authorization_code SET used_at = 1")
        if database_url.startswith("mysql"):
            assert failure.value.args[0] == 1205, failure.value
        assert first_value(storage, "SELECT COUNT(*) FROM oidc_authorization_code") == 1
        assert first_value(storage, "SELECT MAX(used_at) FROM oidc_authorization_code") is None
    finally:
        own.close()
        database_proxy.initialize(storage.database)


def test_each_mysql_server_gets_the_bounds_it_has() -> None:
    """MySQL 8 bounds only SELECT statements (in milliseconds); there is no MySQL server on
    the test machines, so this is where its settings are checked."""
    assert timeout_settings("8.0.36", 1234) == (
        "SET SESSION innodb_lock_wait_timeout = 2, lock_wait_timeout = 2, max_execution_time = 1234"
    )
    assert timeout_settings("5.5.5-10.11.19-MariaDB-0+deb12u1", 300) == (
        "SET SESSION innodb_lock_wait_timeout = 1, lock_wait_timeout = 1, "
        "max_statement_time = 0.300"
    )


def first_value(storage: Storage, sql: str) -> Any:
    return storage.database.execute_sql(sql).fetchone()[0]


# 1234 ms: whole seconds, rounded up, for lock waits; the exact bound for statements
# (MariaDB: any statement, in seconds; MySQL: SELECT, in milliseconds).
MYSQL_BOUNDS = {
    True: {
        "innodb_lock_wait_timeout": 2,
        "lock_wait_timeout": 2,
        "max_statement_time": 1.234,
    },
    False: {"innodb_lock_wait_timeout": 2, "lock_wait_timeout": 2, "max_execution_time": 1234},
}


def is_mariadb(storage: Storage) -> bool:
    return "mariadb" in str(first_value(storage, "SELECT VERSION()")).lower()


def mysql_bounds(storage: Storage) -> dict[str, float]:
    statement = "max_statement_time" if is_mariadb(storage) else "max_execution_time"
    names = ("innodb_lock_wait_timeout", "lock_wait_timeout", statement)
    row = storage.database.execute_sql(
        "SELECT " + ", ".join(f"@@SESSION.{name}" for name in names)
    ).fetchone()
    return {name: float(value) for name, value in zip(names, row, strict=True)}


def test_the_setting_reaches_the_providers_database_connection(
    mount_name: str, database_url: str, storage: Storage
) -> None:
    settings = settings_for(mount_name, database_url, database_statement_timeout_ms=1234)
    own = Provider(settings).storage
    try:
        if database_url.startswith("sqlite"):
            assert first_value(own, "PRAGMA busy_timeout") == 1234
        elif database_url.startswith("mysql"):
            assert mysql_bounds(own) == MYSQL_BOUNDS[is_mariadb(own)]
        else:
            assert first_value(own, "SHOW statement_timeout") == "1234ms"
    finally:
        own.close()
        database_proxy.initialize(storage.database)
