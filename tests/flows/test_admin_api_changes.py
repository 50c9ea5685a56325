"""The management API: updating clients, resetting secrets and deleting clients."""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core.credentials import digest
from oidc_core.storage import Storage
from tests.support.admin_api import CLIENTS, METADATA, Api, error_of, response_json
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.admin_api_checks import count_clients, rp_of, stored_row, token_status
from tests.support.flow import Account, Flow

# Changing clients follows the same rules under every mount: one mount, unless marked.
pytestmark = pytest.mark.mounts("one")


# -- update, reset, delete ------------------------------------------------------------------


def test_update_one_field_keeps_the_others(admin: Api, storage: Storage) -> None:
    created = admin.create()
    digest_before = stored_row(storage, created["client_id"])["secret_digest"]
    response = admin.call(
        "PATCH", f"{CLIENTS}/{created['client_id']}", {"client_name": "Renamed"}, status=200
    )
    updated = response_json(response)
    assert "client_secret" not in updated
    assert updated["client_name"] == "Renamed"
    for key in (*METADATA.keys() - {"client_name"}, "client_id", "require_pkce", "skip_consent"):
        assert updated[key] == created[key], key
    assert admin.get(created["client_id"]) == updated
    assert stored_row(storage, created["client_id"])["secret_digest"] == digest_before


def test_update_several_fields_and_nulls(admin: Api) -> None:
    created = admin.create(access_token_ttl=600)
    updated = response_json(
        admin.call(
            "PATCH",
            f"{CLIENTS}/{created['client_id']}",
            {
                "redirect_uris": ["https://new.example/cb"],
                "skip_consent": True,
                "access_token_ttl": None,
                "description": None,
            },
            status=200,
        )
    )
    assert updated["redirect_uris"] == ["https://new.example/cb"]
    assert updated["skip_consent"] is True
    assert updated["access_token_ttl"] is None
    assert updated["description"] == ""
    assert updated["client_name"] == created["client_name"]


def test_reset_secret_with_an_update_old_secret_fails_new_works(
    admin: Api, app: webtest.TestApp, alice: Account, storage: Storage
) -> None:
    created = admin.create()
    old = rp_of(created)
    assert token_status(app, old, alice)[0] == 200

    response = admin.call(
        "PATCH",
        f"{CLIENTS}/{old.client_id}",
        {"reset_secret": True, "client_name": "Rotated"},
        status=200,
    )
    updated = response_json(response)
    new_secret = updated["client_secret"]
    assert isinstance(new_secret, str) and len(new_secret) >= 43
    assert new_secret != old.client_secret
    assert updated["client_name"] == "Rotated"
    assert stored_row(storage, old.client_id)["secret_digest"] == digest(new_secret)

    status, body = token_status(app, old, alice)
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = token_status(app, rp_of(created, new_secret), alice)
    assert status == 200, body
    assert "client_secret" not in admin.get(old.client_id)


def test_reset_with_grace_keeps_the_old_secret_working(
    admin: Api, app: webtest.TestApp, alice: Account
) -> None:
    created = admin.create()
    response = admin.call(
        "PATCH",
        f"{CLIENTS}/{created['client_id']}",
        {"reset_secret": True, "grace_seconds": 3600},
        status=200,
    )
    new_secret = response_json(response)["client_secret"]
    assert token_status(app, rp_of(created), alice)[0] == 200
    assert token_status(app, rp_of(created, new_secret), alice)[0] == 200


def test_a_public_client_made_confidential_gets_a_working_secret(
    admin: Api, app: webtest.TestApp, alice: Account, storage: Storage
) -> None:
    created = admin.create(token_endpoint_auth_method="none")
    response = admin.call(
        "PATCH",
        f"{CLIENTS}/{created['client_id']}",
        {"token_endpoint_auth_method": "client_secret_basic"},
        status=200,
    )
    updated = response_json(response)
    assert updated["token_endpoint_auth_method"] == "client_secret_basic"
    assert stored_row(storage, created["client_id"])["secret_digest"] == digest(
        updated["client_secret"]
    )
    flow = Flow(app, rp_of(updated), alice, scope="openid email")
    response = flow.token(flow.code_with_pkce())
    assert response.status_int == 200, response.text


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        ({"reset_secret": "yes"}, "reset_secret", "invalid_request"),
        ({"reset_secret": True, "grace_seconds": -1}, "grace_seconds", "invalid_request"),
        ({"reset_secret": True, "grace_seconds": 10**9}, "grace_seconds", "invalid_request"),
        ({"reset_secret": True, "grace_seconds": "60"}, "grace_seconds", "invalid_request"),
        ({"reset_secret": True, "grace_seconds": 1.5}, "grace_seconds", "invalid_request"),
        ({"grace_seconds": 60, "client_name": "X"}, "grace_seconds", "invalid_request"),
        (
            {"reset_secret": True, "token_endpoint_auth_method": "none"},
            "reset_secret",
            "invalid_request",
        ),
        (
            {"reset_secret": True, "client_name": "New", "redirect_uris": ["https://x/#f"]},
            "redirect_uris",
            "invalid_redirect_uri",
        ),
        ({"reset_secret": True, "client_name": ""}, "client_name", "invalid_client_metadata"),
        (
            {"reset_secret": True, "client_secret": "mine"},
            "client_secret",
            "invalid_client_metadata",
        ),
    ],
)
def test_reset_and_update_are_validated_before_anything_changes(
    admin: Api, storage: Storage, body: dict[str, Any], field: str, error: str
) -> None:
    created = admin.create()
    row_before = stored_row(storage, created["client_id"])
    entries_before = len(storage.audit.entries())
    response = admin.call("PATCH", f"{CLIENTS}/{created['client_id']}", body, status=400)
    assert error_of(response)["error"] == error
    assert error_of(response)["field"] == field
    assert stored_row(storage, created["client_id"]) == row_before
    assert len(storage.audit.entries()) == entries_before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reset_secret": True}, "reset_secret"),
        ({"reset_secret": True, "grace_seconds": 60}, "reset_secret"),
        (
            {"token_endpoint_auth_method": "client_secret_basic", "grace_seconds": 60},
            "grace_seconds",
        ),
    ],
)
def test_a_public_client_has_no_secret_to_reset_or_keep(
    admin: Api, storage: Storage, body: dict[str, Any], field: str
) -> None:
    created = admin.create(token_endpoint_auth_method="none")
    row_before = stored_row(storage, created["client_id"])
    response = admin.call("PATCH", f"{CLIENTS}/{created['client_id']}", body, status=400)
    assert error_of(response)["field"] == field
    assert stored_row(storage, created["client_id"]) == row_before


@pytest.mark.parametrize("body", [{}, {"reset_secret": False}])
def test_update_with_nothing_to_change_is_refused(admin: Api, body: dict[str, Any]) -> None:
    created = admin.create()
    response = admin.call("PATCH", f"{CLIENTS}/{created['client_id']}", body, status=400)
    assert error_of(response)["error"] == "invalid_request"


def test_delete_removes_the_client_and_its_tokens(
    admin: Api, app: webtest.TestApp, alice: Account, storage: Storage
) -> None:
    created = admin.create()
    status, body = token_status(app, rp_of(created), alice)
    assert status == 200, body
    bearer = {"Authorization": "Bearer " + body["access_token"]}
    assert app.get("/userinfo", headers=bearer).status_int == 200

    response = admin.call("DELETE", f"{CLIENTS}/{created['client_id']}", status=204)
    assert response.body == b""
    admin.call("GET", f"{CLIENTS}/{created['client_id']}", status=404)
    assert count_clients(storage) == 0
    assert app.get("/userinfo", headers=bearer, expect_errors=True).status_int == 401
    admin.call("DELETE", f"{CLIENTS}/{created['client_id']}", status=404)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", None),
        ("PATCH", {"client_name": "X"}),
        ("PATCH", {"reset_secret": True}),
        ("DELETE", None),
    ],
)
def test_unknown_client_is_404(
    admin: Api, storage: Storage, method: str, body: dict[str, Any] | None
) -> None:
    admin.create()
    response = admin.call(method, f"{CLIENTS}/no-such-client", body, status=404)
    assert error_of(response)["error"] == "not_found"
    assert count_clients(storage) == 1
    assert [e.action for e in storage.audit.entries()] == ["client.create", "admin_token.create"]
