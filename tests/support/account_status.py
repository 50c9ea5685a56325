"""Helpers for the account status tests (docs/administration.md "Account status"):
changing a status through the management API, and what a provider's tables hold.
"""

from __future__ import annotations

import json
from typing import Any

import webtest

from oidc_core import Provider
from tests.support.admin_api import Api, new_token
from tests.support.flow import Account, Flow, query_of

USERS = "/admin/api/users"


def set_status(app: webtest.TestApp, provider: Provider, user: Account, status: str) -> None:
    """Change ``user``'s status the way a billing system would: a PATCH of the API."""
    api = Api(app, new_token(provider, "billing")[1])
    body = api.call("PATCH", f"{USERS}/{user.email}", {"status": status}, status=200).json
    assert body["status"] == status


def rows(provider: Provider, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    cursor = provider.storage.database.execute_sql(sql, params)
    return [tuple(row) for row in cursor.fetchall()]


def count(provider: Provider, sql: str, *params: Any) -> int:
    return int(rows(provider, sql, *params)[0][0])


def audit(provider: Provider, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(actor, target, details) of the audit entries of ``action``, oldest first."""
    found = rows(
        provider,
        "SELECT actor, target, details FROM oidc_audit_log WHERE action = "
        f"{provider.storage.database.param} ORDER BY id",
        action,
    )
    return [(str(actor), str(target), json.loads(details)) for actor, target, details in found]


def silently(flow: Flow) -> dict[str, str]:
    """``prompt=none`` with the browser's session: the callback's query."""
    response = flow.start(prompt="none")
    assert response.status_int in (302, 303), response.text[:300]
    return query_of(response.headers["Location"])
