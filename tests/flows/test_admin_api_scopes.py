"""Scoped management API tokens (issue 17): what each scope may and may not do, and the
read-only audit API.

A token without an operation's scope is answered 403 ``insufficient_scope`` with the
RFC 6750 section 3.1 challenge naming the scope, and nothing in the database changes.
The expectations are written out here, not computed with ``oidc_core.admin.scopes``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Audit, Storage
from tests.support import snapshot
from tests.support.admin_api import CLIENTS, METADATA, Api, check_headers, error_of, new_token
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token

# Who may do what does not depend on the mount, except through the URL: every mount for
# the matrix, one for the rest.
pytestmark = pytest.mark.mounts("one")

USERS = "/admin/api/users"
TOKENS = "/admin/api/initial-access-tokens"
AUDIT = "/admin/api/audit"
METRICS = "/admin/metrics"
REALM = 'Bearer realm="oidc-core admin"'


@dataclass(frozen=True)
class Op:
    name: str
    method: str
    path: str  # {client}, {user}, {token}: filled in by the test
    body: Any = None


OPERATIONS = [
    Op("list clients", "GET", CLIENTS),
    Op("read client", "GET", CLIENTS + "/{client}"),
    Op("create client", "POST", CLIENTS, {**METADATA, "client_name": "Another"}),
    Op("update client", "PATCH", CLIENTS + "/{client}", {"client_name": "Renamed"}),
    Op("reset secret", "PATCH", CLIENTS + "/{client}", {"reset_secret": True}),
    Op("list tokens", "GET", TOKENS),
    Op("issue token", "POST", TOKENS, {"name": "server 7"}),
    Op("revoke token", "DELETE", TOKENS + "/{token}"),
    Op("list users", "GET", USERS),
    Op("read user", "GET", USERS + "/{user}"),
    Op("create user", "POST", USERS, {"email": "new@example.com"}),
    Op("update user", "PATCH", USERS + "/{user}", {"status": "suspended"}),
    Op("read audit", "GET", AUDIT),
    Op("read metrics", "GET", METRICS),
    Op("delete client", "DELETE", CLIENTS + "/{client}"),
]
READS = {"list clients", "read client", "list tokens"}
WRITES = {"create client", "update client", "reset secret", "issue token", "revoke token"}
WRITES |= {"delete client"}
ALLOWED = {
    "clients:read": READS,
    "clients:write": READS | WRITES,
    "audit:read": {"read audit"},
    "metrics:read": {"read metrics"},
    "admin": {op.name for op in OPERATIONS},
}
NEEDED = {
    **dict.fromkeys(READS, "clients:read"),
    **dict.fromkeys(WRITES, "clients:write"),
    **dict.fromkeys(["list users", "read user", "create user", "update user"], "admin"),
    "read audit": "audit:read",
    "read metrics": "metrics:read",
}


def _call(app: webtest.TestApp, token: str, op: Op, keys: dict[str, str]) -> webtest.TestResponse:
    kwargs: dict[str, Any] = {}
    if op.body is not None:
        kwargs = {"body": json.dumps(op.body).encode(), "content_type": "application/json"}
    return app.request(
        op.path.format(**keys),
        method=op.method,
        headers={"Authorization": f"Bearer {token}"},
        expect_errors=True,
        **kwargs,
    )


def _world(admin: Api, provider: Provider) -> dict[str, str]:
    """A client, a user and an initial access token for the operations to act on."""
    client = admin.create()
    user = admin.call("POST", USERS, {"email": "erin@example.com"}, status=201).json
    token = admin.call("POST", TOKENS, {"name": "server 1"}, status=201).json
    return {"client": client["client_id"], "user": user["sub"], "token": str(token["id"])}


@pytest.mark.mounts("every")
@pytest.mark.parametrize("scope", ["clients:read", "clients:write", "audit:read", "metrics:read"])
def test_a_scoped_token_is_refused_what_its_scope_does_not_allow(
    app: webtest.TestApp, admin: Api, provider: Provider, storage: Storage, scope: str
) -> None:
    keys = _world(admin, provider)
    _, token = new_token(provider, f"{scope} script", (scope,))
    before = snapshot.database(storage)
    for op in OPERATIONS:
        if op.name in ALLOWED[scope]:
            continue
        response = _call(app, token, op, keys)
        assert response.status_int == 403, (op, response.text)
        check_headers(response)
        needed = NEEDED[op.name]
        assert error_of(response) == {
            "error": "insufficient_scope",
            "error_description": f"this needs an admin API token with the {needed} scope",
        }
        assert response.headers["WWW-Authenticate"] == (
            f'{REALM}, error="insufficient_scope", error_description="this needs an admin '
            f'API token with the {needed} scope", scope="{needed}"'
        )
    assert snapshot.database(storage) == before

    for op in OPERATIONS:  # what it may do, it does
        if op.name in ALLOWED[scope]:
            response = _call(app, token, op, keys)
            assert response.status_int < 300, (op, response.status, response.text[:300])


def test_an_admin_token_may_do_everything(
    app: webtest.TestApp, admin: Api, provider: Provider
) -> None:
    keys = _world(admin, provider)
    for op in OPERATIONS:
        response = _call(app, admin.token, op, keys)
        assert response.status_int < 300, (op, response.status, response.text[:300])


def test_tokens_made_without_scopes_are_admin(
    app: webtest.TestApp, admin: Api, provider: Provider, storage: Storage
) -> None:
    """As every token before 0.6.0 was made (schema 13 gave those rows ``admin``)."""
    keys = _world(admin, provider)
    record, token = storage.admin_tokens.create("old script", Audit("cli:tester", "x"))
    assert record.scopes == ("admin",)
    for op in OPERATIONS:
        response = _call(app, token, op, keys)
        assert response.status_int < 300, (op, response.status, response.text[:300])


def test_a_revoked_scoped_token_is_401_not_403(
    app: webtest.TestApp, admin: Api, provider: Provider, storage: Storage
) -> None:
    keys = _world(admin, provider)
    token_id, token = new_token(provider, "retired", ("clients:write",))
    assert storage.admin_tokens.revoke(token_id, Audit("cli:tester", "admin_token.revoke"))
    before = snapshot.database(storage)
    for op in OPERATIONS:
        response = _call(app, token, op, keys)
        assert response.status_int == 401, (op, response.text)
        assert error_of(response)["error"] == "invalid_token"
        assert response.headers["WWW-Authenticate"].startswith(f'{REALM}, error="invalid_token"')
    assert snapshot.database(storage) == before


def test_the_scope_is_checked_before_the_body_is_read(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    _, token = new_token(provider, "reader", ("clients:read",))
    before = snapshot.database(storage)
    for raw, content_type in [(b"{not json", "application/json"), (b"a=b", "text/plain")]:
        response = app.post(
            CLIENTS,
            raw,
            headers={"Authorization": f"Bearer {token}"},
            content_type=content_type,
            expect_errors=True,
        )
        assert response.status_int == 403
        assert error_of(response)["error"] == "insufficient_scope"
    assert snapshot.database(storage) == before


# -- the audit API ------------------------------------------------------------------------------


def test_the_audit_api_lists_entries_newest_first_without_secrets(
    app: webtest.TestApp,
    admin: Api,
    api_token: tuple[int, str],
    provider: Provider,
    storage: Storage,
) -> None:
    created = admin.create()
    reset = admin.call(
        "PATCH", f"{CLIENTS}/{created['client_id']}", {"reset_secret": True}, status=200
    ).json
    issued = admin.call("POST", TOKENS, {"name": "server 9"}, status=201).json
    auditor_id, auditor = new_token(provider, "auditor", ("audit:read",))
    reader = Api(app, auditor)

    entries = reader.call("GET", AUDIT, status=200).json["entries"]
    console = [vars(entry) for entry in storage.audit.entries()]  # what the console shows
    assert entries == console
    assert [(e["action"], e["target"]) for e in entries] == [
        ("admin_token.create", f"admin-token:{auditor_id}"),
        ("initial_access_token.create", f"initial-access-token:{issued['id']}"),
        ("client.reset_secret", created["client_id"]),
        ("client.create", created["client_id"]),
        ("admin_token.create", f"admin-token:{api_token[0]}"),
    ]
    assert entries[1]["actor"] == f"api-token:{api_token[0]} (provisioning)"
    assert entries[1]["details"]["name"] == "server 9"
    text = json.dumps(entries)
    for secret in [created["client_secret"], reset["client_secret"], issued["token"], auditor]:
        assert secret not in text

    page = reader.call("GET", f"{AUDIT}?limit=2&offset=1", status=200).json["entries"]
    assert page == entries[1:3]
    assert reader.call("GET", f"{AUDIT}?offset=5", status=200).json == {"entries": []}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("offset=1000000000", "offset"),
        ("limit=1&limit=2", "limit"),
        ("q=client", "q"),
    ],
)
def test_bad_audit_paging_is_400_naming_the_parameter(
    app: webtest.TestApp, provider: Provider, query: str, field: str
) -> None:
    _, token = new_token(provider, "auditor", ("audit:read",))
    response = Api(app, token).call("GET", f"{AUDIT}?{query}", status=400)
    body = error_of(response)
    assert body["error"] == "invalid_request" and body["field"] == field
