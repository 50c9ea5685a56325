"""The management API's users: create, read (by sub or email), list with paging, and
change the status and flags; validation (400 ``invalid_request`` with the field named,
nothing changed), 404 for an unknown user, audit entries, and the OpenAPI schemas the
answers follow (SECURITY-CHECKLIST ACC-8).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import webtest

from oidc_core import Provider
from tests.support.account_status import USERS, audit, rows
from tests.support.admin_api import Api, error_of, response_json
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.flow import Account

pytestmark = pytest.mark.mounts("one")


def conforms(app: webtest.TestApp, body: Any, schema: str) -> None:
    """``body`` is valid against the served OpenAPI document's component ``schema``."""
    document = app.get("/admin/api/openapi.json").json
    jsonschema.validate(
        body, {**document["components"]["schemas"][schema], "components": document["components"]}
    )


def test_create_then_read_by_sub_and_by_email(
    admin: Api, provider: Provider, api_token: tuple[int, str]
) -> None:
    data = {"email": "Carol@Example.com", "password": "carol's password", "name": "Carol"}
    response = admin.call("POST", USERS, data, status=201)
    created = response_json(response)
    assert created["email"] == "carol@example.com"
    assert created["status"] == "active"
    assert (created["email_verified"], created["is_admin"]) == (False, False)
    assert "password" not in response.text and "argon2" not in response.text
    assert response.headers["Location"].endswith(f"{USERS}/{created['sub']}")
    conforms(admin.app, created, "User")
    by_sub = response_json(admin.call("GET", f"{USERS}/{created['sub']}", status=200))
    by_email = response_json(admin.call("GET", f"{USERS}/carol@example.com", status=200))
    assert by_sub == by_email == created
    assert audit(provider, "user.create") == [
        (f"api-token:{api_token[0]} (provisioning)", "carol@example.com",
         {"fields": ["email", "name", "password"]}),
    ]  # fmt: skip
    user = provider.storage.users.by_email("carol@example.com")
    assert user is not None and provider.passwords.verify(user.password_hash, "carol's password")


def test_list_searches_filters_by_status_and_pages(
    admin: Api, alice: Account, bob: Account
) -> None:
    admin.call("PATCH", f"{USERS}/{bob.email}", {"status": "suspended"}, status=200)
    listed = response_json(admin.call("GET", USERS, status=200))
    conforms(admin.app, listed, "UserList")
    assert [user["email"] for user in listed["users"]] == [alice.email, bob.email]
    only = response_json(admin.call("GET", f"{USERS}?status=suspended", status=200))
    assert [user["email"] for user in only["users"]] == [bob.email]
    found = response_json(admin.call("GET", f"{USERS}?q=ALICE", status=200))
    assert [user["sub"] for user in found["users"]] == [alice.subject]
    for wildcard in ("%25", "_"):  # LIKE's wildcards are matched as themselves
        none = response_json(admin.call("GET", f"{USERS}?q={wildcard}", status=200))
        assert none["users"] == []
    page = response_json(admin.call("GET", f"{USERS}?limit=1&offset=1", status=200))
    assert [user["email"] for user in page["users"]] == [bob.email]


def test_patch_changes_flags_and_status_in_one_call(
    admin: Api, provider: Provider, bob: Account
) -> None:
    change = {"status": "suspended", "email_verified": True, "is_admin": True}
    body = response_json(admin.call("PATCH", f"{USERS}/{bob.subject}", change, status=200))
    conforms(admin.app, body, "User")
    assert {key: body[key] for key in change} == change
    assert body["status_changed_at"] >= body["updated_at"] - 1
    assert [entry[2] for entry in audit(provider, "user.update")] == [
        {"fields": ["email_verified", "is_admin"]}
    ]
    assert [entry[2] for entry in audit(provider, "user.status")] == [
        {"from": "active", "to": "suspended"}
    ]


INVALID_CHANGES: list[tuple[dict[str, Any], str]] = [
    ({"status": "deleted"}, "status"),
    ({"status": "Active"}, "status"),
    ({"status": None}, "status"),
    ({"status": ["suspended"]}, "status"),
    ({"status": "suspended", "is_admin": "yes"}, "is_admin"),
    ({"email_verified": 1}, "email_verified"),
    ({"email": "new@example.com"}, "email"),
    ({"password": "a new long password"}, "password"),
    ({}, "status"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_CHANGES)
def test_an_invalid_change_is_400_with_the_field_and_changes_nothing(
    admin: Api, provider: Provider, bob: Account, change: dict[str, Any], field: str
) -> None:
    before = rows(provider, "SELECT * FROM oidc_user")
    response = admin.call("PATCH", f"{USERS}/{bob.email}", change, status=400)
    assert error_of(response)["error"] == "invalid_request"
    assert error_of(response)["field"] == field
    assert rows(provider, "SELECT * FROM oidc_user") == before
    assert audit(provider, "user.status") == audit(provider, "user.update") == []


INVALID_CREATES: list[tuple[dict[str, Any], str]] = [
    ({}, "email"),
    ({"email": "not an address"}, "email"),
    ({"email": "x@example"}, "email"),
    ({"email": "a@example.com,b@example.com"}, "email"),
    ({"email": "Name <a@example.com>"}, "email"),
    ({"email": 7}, "email"),
    ({"email": "e" * 320 + "@example.com"}, "email"),
    ({"email": "x@example.com", "password": "short"}, "password"),
    ({"email": "x@example.com", "password": 12345678}, "password"),
    ({"email": "x@example.com", "password": "p" * 5000}, "password"),
    ({"email": "x@example.com", "name": "a\x00b"}, "name"),
    ({"email": "x@example.com", "is_admin": "true"}, "is_admin"),
    ({"email": "x@example.com", "status": "suspended"}, "status"),
    ({"email": "bob@example.com"}, "email"),  # taken
]


@pytest.mark.parametrize(("data", "field"), INVALID_CREATES)
def test_an_invalid_user_is_400_with_the_field_and_nothing_is_created(
    admin: Api, provider: Provider, bob: Account, data: dict[str, Any], field: str
) -> None:
    response = admin.call("POST", USERS, data, status=400)
    assert error_of(response)["error"] == "invalid_request"
    assert error_of(response)["field"] == field
    assert rows(provider, "SELECT email FROM oidc_user") == [("bob@example.com",)]
    assert audit(provider, "user.create") == []


@pytest.mark.parametrize("key", ["nobody@example.com", "no-such-sub", "a\x01b"])
def test_an_unknown_user_is_404(admin: Api, key: str) -> None:
    for method, body in (("GET", None), ("PATCH", {"status": "suspended"})):
        response = admin.call(method, f"{USERS}/{key}", body, status=404)
        assert error_of(response)["error"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=gone", "status"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("sort=name", "sort"),
    ],
)
def test_a_bad_list_query_is_400(admin: Api, query: str, field: str) -> None:
    response = admin.call("GET", f"{USERS}?{query}", status=400)
    assert error_of(response) | {"error_description": ""} == {
        "error": "invalid_request",
        "error_description": "",
        "field": field,
    }


def test_users_need_an_admin_token(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    for method, path in (("GET", USERS), ("GET", f"{USERS}/{alice.email}")):
        response = app.request(path, method=method, expect_errors=True)
        assert response.status_int == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    response = app.request(
        f"{USERS}/{alice.email}",
        method="PATCH",
        body=b'{"status": "suspended"}',
        content_type="application/json",
        expect_errors=True,
    )
    assert response.status_int == 401
    assert rows(provider, "SELECT status FROM oidc_user") == [("active",)]
