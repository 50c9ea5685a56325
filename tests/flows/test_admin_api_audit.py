"""The management API's audit log, grant types and access token formats."""

from __future__ import annotations

import json
import logging

import pytest

from oidc_core.storage import Storage
from tests.support.admin_api import CLIENTS, METADATA, Api, response_json
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token

# The audit log and the token formats are the same under every mount: one mount.
pytestmark = pytest.mark.mounts("one")


# -- audit, logs, concurrency ---------------------------------------------------------------


def test_every_change_is_audited_with_the_token_and_never_a_secret(
    admin: Api, api_token: tuple[int, str], storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = admin.create()
    path = f"{CLIENTS}/{created['client_id']}"
    admin.call("PATCH", path, {"client_name": "Renamed"}, status=200)
    reset = response_json(admin.call("PATCH", path, {"reset_secret": True}, status=200))
    combined = response_json(
        admin.call("PATCH", path, {"reset_secret": True, "scope": "openid"}, status=200)
    )
    admin.call("GET", CLIENTS, status=200)
    admin.call("DELETE", path, status=204)

    entries = [e for e in storage.audit.entries() if e.target == created["client_id"]]
    actions = [e.action for e in reversed(entries)]
    assert actions == [
        "client.create",
        "client.update",
        "client.reset_secret",
        "client.update",
        "client.reset_secret",
        "client.delete",
    ]
    actor = f"api-token:{api_token[0]} (provisioning)"
    assert {e.actor for e in entries} == {actor}
    serialized = json.dumps([vars(e) for e in storage.audit.entries()])
    secrets = [created["client_secret"], reset["client_secret"], combined["client_secret"]]
    for value in [*secrets, admin.token]:
        assert value not in serialized
        assert value not in caplog.text


def test_grant_types_through_the_api(admin: Api, storage: Storage) -> None:
    grants = ["authorization_code", "refresh_token", "client_credentials"]
    created = response_json(
        admin.call("POST", CLIENTS, {**METADATA, "grant_types": grants[::-1]}, status=201)
    )
    assert created["grant_types"] == grants  # canonical order
    client_id = created["client_id"]
    changed = admin.call("PATCH", f"{CLIENTS}/{client_id}", {"grant_types": grants[:2]}, status=200)
    assert response_json(changed)["grant_types"] == grants[:2]
    refused = admin.call(
        "PATCH",
        f"{CLIENTS}/{client_id}",
        {"token_endpoint_auth_method": "none", "grant_types": grants},
        status=400,
    )
    assert response_json(refused)["field"] == "grant_types"
    assert admin.get(client_id)["grant_types"] == grants[:2]


def test_access_token_format_through_the_api(admin: Api) -> None:
    created = response_json(admin.call("POST", CLIENTS, METADATA, status=201))
    assert created["access_token_format"] == "opaque"
    client_id = created["client_id"]
    changed = admin.call(
        "PATCH", f"{CLIENTS}/{client_id}", {"access_token_format": "jwt"}, status=200
    )
    assert response_json(changed)["access_token_format"] == "jwt"
    refused = admin.call(
        "PATCH", f"{CLIENTS}/{client_id}", {"access_token_format": "paseto"}, status=400
    )
    assert response_json(refused)["field"] == "access_token_format"
    assert admin.get(client_id)["access_token_format"] == "jwt"
