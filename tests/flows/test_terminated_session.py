"""The database server ends the provider's session (a restart, a failover, an
administrator): the request gets a 503 and the next one reconnects (T-66 with the real
driver's error), on PostgreSQL (``pg_terminate_backend``) and MySQL/MariaDB (``KILL``).

On SQLite there is no server session to end; ``tests/flows/test_faults.py`` takes the
database file away instead.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core.storage import Storage
from oidc_core.storage.db import open_database
from tests.support.fault_injection import is_unavailable_json
from tests.support.flow import RP, Account, Flow


def session_id(storage: Storage, database_url: str) -> int:
    """The server's id for the connection the test's thread (and the provider) uses."""
    sql = (
        "SELECT CONNECTION_ID()" if database_url.startswith("mysql") else "SELECT pg_backend_pid()"
    )
    return int(storage.database.execute_sql(sql).fetchone()[0])


def terminate(database_url: str, session: int) -> None:
    """End a server session from another connection, as an administrator would."""
    killer = open_database(database_url)
    try:
        if database_url.startswith("mysql"):
            killer.execute_sql(f"KILL CONNECTION {int(session)}")
        else:
            killer.execute_sql("SELECT pg_terminate_backend(%s)", (session,))
    finally:
        killer.close()


def test_a_terminated_session_is_a_503_and_the_next_request_reconnects(
    app: webtest.TestApp, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server session to terminate (tests/flows/test_faults.py)")
    flow = Flow(app, client_a, alice)
    code = flow.authorize()["code"]
    terminate(database_url, session_id(storage, database_url))
    response = flow.token(code)
    assert is_unavailable_json(response), (response.status, response.text[:300])
    assert flow.token(code).status_int == 200  # a new connection; the code was never used
    assert flow.token(code).json["error"] == "invalid_grant"
