"""The management API under /admin/api/: creating, reading and listing clients."""

from __future__ import annotations

import json
import time

import pytest
import webtest

from oidc_core.credentials import digest
from oidc_core.storage import Storage
from tests.support.admin_api import CLIENTS, METADATA, Api, error_of, response_json
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.admin_api_checks import rp_of, stored_row, token_status
from tests.support.flow import Account, issuer_of

# Creating and listing clients: one mount; mounts("every"): the prefix, the host framework.
pytestmark = pytest.mark.mounts("one")


# -- create, read, list ---------------------------------------------------------------------


@pytest.mark.mounts("every")
def test_create_returns_the_secret_once_and_stores_only_its_digest(
    admin: Api, storage: Storage
) -> None:
    response = admin.call("POST", CLIENTS, METADATA, status=201)
    created = response_json(response)
    client_id, secret = created["client_id"], created["client_secret"]
    assert response.headers["Location"] == f"{issuer_of(response.test_app)}{CLIENTS}/{client_id}"
    assert isinstance(secret, str) and len(secret) >= 43  # 256 bits, base64url
    for key, value in METADATA.items():
        assert created[key] == value or key == "scope", key
    assert created["scope"].split() == ["email", "openid"]
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["grant_types"] == ["authorization_code"]

    shown = admin.get(client_id)
    assert "client_secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "client_secret"}
    listed = response_json(admin.call("GET", CLIENTS, status=200))["clients"]
    assert [c["client_id"] for c in listed] == [client_id]
    assert "client_secret" not in listed[0]
    assert secret not in admin.call("GET", CLIENTS, status=200).text

    row = stored_row(storage, client_id)
    assert row["secret_digest"] == digest(secret)
    assert secret not in json.dumps(row, default=str)


def test_create_public_client_has_no_secret_and_requires_pkce(admin: Api) -> None:
    created = admin.create(token_endpoint_auth_method="none", require_pkce=False)
    assert created["client_secret"] is None
    assert created["token_endpoint_auth_method"] == "none"
    assert created["require_pkce"] is True


@pytest.mark.mounts("every")
def test_created_client_completes_the_code_flow(
    admin: Api, app: webtest.TestApp, alice: Account
) -> None:
    created = admin.create()
    status, body = token_status(app, rp_of(created), alice)
    assert status == 200, body
    assert body["token_type"] == "Bearer"


def test_the_client_and_its_update_say_when_it_was_last_used_as_the_list_does(
    admin: Api, app: webtest.TestApp, alice: Account
) -> None:
    created = admin.create()
    client_id = created["client_id"]
    assert created["last_used_at"] is None
    assert admin.get(client_id)["last_used_at"] is None
    before = int(time.time())
    assert token_status(app, rp_of(created), alice)[0] == 200
    listed = response_json(admin.call("GET", CLIENTS, status=200))["clients"]
    used = listed[0]["last_used_at"]
    assert isinstance(used, int) and before <= used <= time.time()
    assert admin.get(client_id)["last_used_at"] == used
    patched = admin.call("PATCH", f"{CLIENTS}/{client_id}", {"description": "x"}, status=200)
    assert response_json(patched)["last_used_at"] == used


def test_list_filters_sorts_and_pages(admin: Api) -> None:
    ids = {name: admin.create(client_name=name)["client_id"] for name in ("beta", "Alpha", "Gamma")}

    def names(query: str) -> list[str]:
        found = response_json(admin.call("GET", f"{CLIENTS}?{query}", status=200))["clients"]
        return [client["client_name"] for client in found]

    assert names("") == ["Alpha", "Gamma", "beta"]  # by name (as stored, SQL collation)
    assert names("sort=-name") == ["beta", "Gamma", "Alpha"]
    assert names("q=ALPHA") == ["Alpha"]  # case-insensitive on the name (5 letters: no random ID)
    assert names("q=" + ids["Gamma"][3:12]) == ["Gamma"]  # part of the client_id
    assert names("q=nothing-like-this") == []
    assert names("limit=2") == ["Alpha", "Gamma"]
    assert names("limit=2&offset=2") == ["beta"]
    assert names("offset=3") == []
    by_id = sorted(ids.values())
    found = response_json(admin.call("GET", f"{CLIENTS}?sort=client_id", status=200))["clients"]
    assert [c["client_id"] for c in found] == by_id
    found = response_json(admin.call("GET", f"{CLIENTS}?sort=-client_id", status=200))["clients"]
    assert [c["client_id"] for c in found] == by_id[::-1]
    for key in ("created_at", "-updated_at"):
        assert len(names(f"sort={key}")) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=secret_digest", "sort"),
        ("sort=", "sort"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=1e3", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("offset=1000000000", "offset"),
        ("offset=" + "9" * 4400, "offset"),
        ("limit=1&limit=2", "limit"),
        ("q=" + "x" * 256, "q"),
        ("q=a%00b", "q"),  # found by the fuzzer: PostgreSQL refuses NUL in text (was a 500)
        ("q=a%0Ab", "q"),
        ("search=alpha", "search"),
    ],
)
def test_list_rejects_bad_parameters_naming_them(admin: Api, query: str, field: str) -> None:
    body = error_of(admin.call("GET", f"{CLIENTS}?{query}", status=400))
    assert body["error"] == "invalid_request"
    assert body["field"] == field
    assert body["error_description"].startswith(field + ":")
