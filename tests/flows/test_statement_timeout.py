"""A database that blocks becomes a quick 503, never a hung worker (T-71).

Another connection holds the write lock the token request needs (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: ``LOCK TABLE``), as a long transaction or a stuck migration would.
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
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy, open_database
from tests.conftest import FAST_PASSWORDS
from tests.flows.test_fault_injection import is_unavailable_json
from tests.support.flow import RP, Account, Flow
from tests.support.mounts import MountedApp, build, settings_for

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


def first_value(storage: Storage, sql: str) -> Any:
    return storage.database.execute_sql(sql).fetchone()[0]


def test_the_setting_reaches_the_providers_database_connection(
    mount_name: str, database_url: str, storage: Storage
) -> None:
    settings = settings_for(mount_name, database_url, database_statement_timeout_ms=1234)
    own = Provider(settings).storage
    try:
        if database_url.startswith("sqlite"):
            assert first_value(own, "PRAGMA busy_timeout") == 1234
        else:
            assert first_value(own, "SHOW statement_timeout") == "1234ms"
    finally:
        own.close()
        database_proxy.initialize(storage.database)
