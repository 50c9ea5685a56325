"""PostgreSQL ends the provider's session (a restart, a failover, an administrator): the
request gets a 503 and the next one reconnects (T-66 with the real driver's error).

On SQLite there is no server session to end; ``tests/flows/test_faults.py`` takes the
database file away instead.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core.storage import Storage
from oidc_core.storage.db import open_database
from tests.flows.test_fault_injection import is_unavailable_json
from tests.support.flow import RP, Account, Flow


def terminate(database_url: str, backend: int) -> None:
    """End a PostgreSQL session from another connection, as an administrator would."""
    killer = open_database(database_url)
    try:
        killer.execute_sql("SELECT pg_terminate_backend(%s)", (backend,))
    finally:
        killer.close()


def test_a_terminated_session_is_a_503_and_the_next_request_reconnects(
    app: webtest.TestApp, storage: Storage, database_url: str, client_a: RP, alice: Account
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite has no server session to terminate")
    flow = Flow(app, client_a, alice)
    code = flow.authorize()["code"]
    backend = storage.database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    terminate(database_url, backend)
    response = flow.token(code)
    assert is_unavailable_json(response), (response.status, response.text[:300])
    assert flow.token(code).status_int == 200  # a new connection; the code was never used
    assert flow.token(code).json["error"] == "invalid_grant"
