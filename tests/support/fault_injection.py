"""The database failing on demand for ``test_fault_injection_*.py``: the ``faults``
fixture, snapshots of every table, and the checks of a 503 page or JSON answer.
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from oidc_core.storage.models import ALL_MODELS
from tests.support.faults import Faults
from tests.support.flow import RP, Account, Flow

Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def faults(storage: Storage, provider: Provider) -> Faults:
    # The provider looks for back-channel deliveries left by other processes at most once a
    # minute, after a request: look now, so that lookup never lands among a test's statements.
    provider.backchannel.wake_if_pending()
    return Faults(storage.database)


def snapshot(storage: Storage) -> Snapshot:
    """Every row of every table, in a fixed order."""
    db = storage.database
    tables = {}
    for model in ALL_MODELS:
        name = model._meta.table_name
        rows = db.execute_sql(f"SELECT * FROM {name}").fetchall()
        tables[name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def is_unavailable_json(response: webtest.TestResponse) -> bool:
    return (
        response.status_int == 503
        and response.content_type == "application/json"
        and response.json["error"] == "temporarily_unavailable"
        and "correlation id" in response.json["error_description"]
        and bool(response.headers.get("Retry-After"))
        and response.headers.get("Cache-Control") == "no-store"
        and "Traceback" not in response.text
    )


def is_unavailable_page(response: webtest.TestResponse) -> bool:
    return (
        response.status_int == 503
        and response.content_type == "text/html"
        and "Location" not in response.headers
        and bool(response.headers.get("Retry-After"))
        and "correlation id" in response.text
        and "Traceback" not in response.text
    )


def signed_in_consent_page(app: webtest.TestApp, rp: RP, user: Account) -> webtest.TestResponse:
    flow = Flow(app, rp, user)
    start = flow.start()
    login_page = app.get(start.headers["Location"])
    consent = app.get(flow.login(login_page).headers["Location"])
    assert "decision" in consent.text
    return consent
