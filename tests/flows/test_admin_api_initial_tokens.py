"""Initial access tokens (RFC 7591 section 3) through the management API: issued with
``clients:write`` (the value once, stored as its digest, limits stored), listed without
values, revoked; bad input refused with the field named and nothing stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.support import snapshot
from tests.support.admin_api import Api, error_of, new_token
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.flow import issuer_of

pytestmark = pytest.mark.mounts("one")

TOKENS = "/admin/api/initial-access-tokens"
DAY = 86400


def stored_rows(storage: Storage) -> list[dict[str, Any]]:
    cursor = storage.database.execute_sql("SELECT * FROM oidc_initial_access_token ORDER BY id")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.mounts("every")
def test_issue_with_limits_shows_the_value_once_and_stores_its_digest(
    app: webtest.TestApp, admin: Api, api_token: tuple[int, str], storage: Storage
) -> None:
    request = {
        "name": "cpanel-07.example.net",
        "expires_in": 3600,
        "uses_allowed": 3,
        "scopes": ["email", "openid"],
        "grant_types": ["refresh_token", "authorization_code"],
        "redirect_hosts": ["CPanel-07.Example.NET", "[2001:DB8::1]", "192.0.2.7"],
    }
    started = int(time.time())
    response = admin.call("POST", TOKENS, request, status=201)
    issued = response.json
    value = issued.pop("token")
    assert len(value) >= 32
    assert response.headers["Location"] == f"{issuer_of(app)}{TOKENS}/{issued['id']}"
    assert started + 3600 <= issued["expires_at"] <= int(time.time()) + 3600
    assert issued == {
        "id": issued["id"],
        "name": "cpanel-07.example.net",
        "state": "live",
        "created_by": f"api-token:{api_token[0]} (provisioning)",
        "created_at": issued["created_at"],
        "expires_at": issued["expires_at"],
        "uses_allowed": 3,
        "uses": 0,
        "last_used_at": None,
        "revoked_at": None,
        "scopes": ["openid", "email"],
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_hosts": ["cpanel-07.example.net", "2001:db8::1", "192.0.2.7"],
    }

    [row] = stored_rows(storage)
    assert row["token_digest"] == hashlib.sha256(value.encode()).hexdigest()
    assert value not in json.dumps(row, default=str)
    assert row["uses_allowed"] == 3
    assert row["allowed_grant_types"] == "authorization_code refresh_token"
    found = storage.initial_access_tokens.find(value)
    assert found is not None and found.id == issued["id"]
    assert found.allowed_scopes == frozenset({"openid", "email"})
    assert found.allowed_redirect_hosts == ("cpanel-07.example.net", "2001:db8::1", "192.0.2.7")

    listed = admin.call("GET", TOKENS, status=200)
    assert listed.json == {"tokens": [issued]}
    assert value not in listed.text and row["token_digest"] not in listed.text
    [entry] = [e for e in storage.audit.entries() if e.action.startswith("initial_access")]
    assert (entry.action, entry.target) == (
        "initial_access_token.create",
        f"initial-access-token:{issued['id']}",
    )
    assert entry.details["uses_allowed"] == 3 and entry.details["name"] == request["name"]
    assert value not in json.dumps(vars(entry))


def test_the_defaults_are_one_use_for_one_day(admin: Api, storage: Storage) -> None:
    started = int(time.time())
    issued = admin.call("POST", TOKENS, {"name": "one server"}, status=201).json
    assert issued["uses_allowed"] == 1
    assert started + DAY <= issued["expires_at"] <= int(time.time()) + DAY
    assert (issued["scopes"], issued["grant_types"], issued["redirect_hosts"]) == ([], [], [])


@pytest.mark.mounts("every")
def test_revoke_then_the_value_finds_nothing(
    admin: Api, provider: Provider, storage: Storage
) -> None:
    first = admin.call("POST", TOKENS, {"name": "first"}, status=201).json
    second = admin.call("POST", TOKENS, {"name": "second"}, status=201).json
    admin.call("DELETE", f"{TOKENS}/{first['id']}", status=204)
    assert provider.storage.initial_access_tokens.find(first["token"]) is None
    assert provider.storage.initial_access_tokens.find(second["token"]) is not None
    states = {t["name"]: t["state"] for t in admin.call("GET", TOKENS, status=200).json["tokens"]}
    assert states == {"first": "revoked", "second": "live"}
    revoked = [e for e in storage.audit.entries() if e.action == "initial_access_token.revoke"]
    assert [(e.target, e.details) for e in revoked] == [
        (f"initial-access-token:{first['id']}", {"name": "first"})
    ]

    before = snapshot.database(storage)
    for key in [str(first["id"]), str(second["id"] + 1), "abc", "-1", "1" * 40]:
        response = admin.call("DELETE", f"{TOKENS}/{key}", status=404)
        assert error_of(response)["error"] == "not_found"
    assert snapshot.database(storage) == before


def test_a_clients_read_token_lists_but_cannot_issue_or_revoke(
    app: webtest.TestApp, admin: Api, provider: Provider, storage: Storage
) -> None:
    issued = admin.call("POST", TOKENS, {"name": "existing"}, status=201).json
    _, token = new_token(provider, "reader", ("clients:read",))
    reader = Api(app, token)
    listed = reader.call("GET", TOKENS, status=200).json["tokens"]
    assert [t["name"] for t in listed] == ["existing"]
    before = snapshot.database(storage)
    for method, path, body in [
        ("POST", TOKENS, {"name": "sneaky"}),
        ("DELETE", f"{TOKENS}/{issued['id']}", None),
    ]:
        response = reader.call(method, path, body, status=403)
        assert error_of(response)["error"] == "insufficient_scope"
        assert 'scope="clients:write"' in response.headers["WWW-Authenticate"]
    assert snapshot.database(storage) == before
    assert provider.storage.initial_access_tokens.find(issued["token"]) is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "evil\x1b[31m"}, "name"),
        ({"name": "bidi\u202e"}, "name"),
        ({"name": 7}, "name"),
        ({"name": "s", "expires_in": 59}, "expires_in"),
        ({"name": "s", "expires_in": 366 * DAY + 1}, "expires_in"),
        ({"name": "s", "expires_in": "1d"}, "expires_in"),
        ({"name": "s", "expires_in": True}, "expires_in"),
        ({"name": "s", "expires_in": 3600.5}, "expires_in"),
        ({"name": "s", "uses_allowed": 0}, "uses_allowed"),
        ({"name": "s", "uses_allowed": 1001}, "uses_allowed"),
        ({"name": "s", "uses_allowed": -1}, "uses_allowed"),
        ({"name": "s", "scopes": ["email"]}, "scopes"),
        ({"name": "s", "scopes": ["openid", "admin"]}, "scopes"),
        ({"name": "s", "scopes": "openid"}, "scopes"),
        ({"name": "s", "grant_types": ["implicit"]}, "grant_types"),
        ({"name": "s", "grant_types": [1]}, "grant_types"),
        ({"name": "s", "redirect_hosts": ["*.example.com"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["https://rp.example"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["rp.example:2083"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["rp.example/cb"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["user@rp.example"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["rp_example.com"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["-rp.example"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["a..b"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": [""]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["rp.example\n"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["rp\x00.example"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": ["a" * 64 + ".example"]}, "redirect_hosts"),
        ({"name": "s", "redirect_hosts": [f"h{i}.example" for i in range(51)]}, "redirect_hosts"),
        ({"name": "s", "token": "chosen-by-me"}, "token"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_stores_nothing(
    admin: Api, storage: Storage, body: dict[str, Any], field: str
) -> None:
    before = snapshot.database(storage)
    response = admin.call("POST", TOKENS, body, status=400)
    error = error_of(response)
    assert error["error"] == "invalid_request" and error["field"] == field, error
    assert error["error_description"].startswith(f"{field}: ")
    assert "\x1b" not in response.text and "\\u202e" not in response.text.lower()
    assert snapshot.database(storage) == before
