"""Helpers for ``test_client_admin_*.py``: clients created through ``provider.clients``,
SQL and audit readers, Basic credentials.
"""

from __future__ import annotations

import base64
from typing import Any

import webtest

from oidc_core import Provider
from tests.support.flow import RP, Account, Flow

ACTOR = "admin@example.com"
CB = "https://rp.example/cb"


def create(provider: Provider, **metadata: Any) -> RP:
    """A client created through ClientAdmin; the RP as the tests know it."""
    data: dict[str, Any] = {"client_name": "Managed RP", "redirect_uris": [CB]}
    data.update(metadata)
    client, secret = provider.clients.create(data, ACTOR)
    return RP(client.client_id, secret or "", list(client.redirect_uris))


def assert_error(response: webtest.TestResponse, status: int, error: str) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["error"] == error, response.json


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def sql(provider: Provider, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    db = provider.storage.database
    statement = statement.replace("?", db.param)
    return list(db.execute_sql(statement, params).fetchall())


def userinfo(app: webtest.TestApp, token: str) -> webtest.TestResponse:
    return app.get("/userinfo", headers={"Authorization": "Bearer " + token}, expect_errors=True)


def audit_actions(provider: Provider, target: str) -> list[str]:
    entries = provider.storage.audit.entries(limit=1000)
    return [entry.action for entry in reversed(entries) if entry.target == target]


def _tokens(app: webtest.TestApp, rp: RP, alice: Account) -> dict[str, Any]:
    flow = Flow(app, rp, alice)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    body: dict[str, Any] = response.json
    return body
