"""Dynamic client registration (RFC 7591) and client configuration (RFC 7592) as a server
uses them: register with an initial access token, sign a user in with the new client,
read and change the registration, rotate the secret, delete it.  ID tokens are verified
with PyJWT against the JWKS.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.support.admin_api_checks import count_clients, stored_row
from tests.support.admin_console import admin as admin
from tests.support.flow import Account, Flow, verify_id_token
from tests.support.key_rotation import worker
from tests.support.registration import (
    METADATA,
    REGISTER,
    Registered,
    call,
    issue,
    refused,
    register,
)


def signed_in(app: webtest.TestApp, registered: Registered, user: Account, auth: str) -> str:
    """The code flow with the registered client; the ID token's ``sub``."""
    flow = Flow(app, registered.rp, user)
    response = flow.token(flow.authorize()["code"], auth=auth)
    assert response.status_int == 200, response.text
    return str(verify_id_token(app, response.json["id_token"], registered.rp.client_id)["sub"])


def audit_rows(storage: Storage) -> list[tuple[str, str, str, str]]:
    rows = storage.database.execute_sql(
        "SELECT actor, action, target, details FROM oidc_audit_log ORDER BY id"
    ).fetchall()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_register_then_sign_in(
    app: webtest.TestApp, provider: Provider, alice: Account, auth: str
) -> None:
    token_id, token = issue(provider)
    body = register(app, token, {**METADATA, "token_endpoint_auth_method": f"client_secret_{auth}"})
    assert body["client_name"] == METADATA["client_name"]
    assert body["redirect_uris"] == METADATA["redirect_uris"]
    assert body["client_secret_expires_at"] == 0
    assert abs(body["client_id_issued_at"] - time.time()) < 60
    assert body["registration_client_uri"] == f"{app.issuer}/register/{body['client_id']}"
    assert isinstance(body["registration_access_token"], str)
    assert not {"skip_consent", "require_mfa", "access_token_ttl", "id_token_ttl"} & set(body)
    # RFC 7591 3.2.1: the registered method, as asked; read back the same (RFC 7592)
    assert body["token_endpoint_auth_method"] == f"client_secret_{auth}"
    client = Registered(app, body)
    assert client.use("GET")["token_endpoint_auth_method"] == f"client_secret_{auth}"
    assert signed_in(app, client, alice, auth) == alice.subject
    stored = provider.storage.initial_access_tokens.get(token_id)
    assert stored is not None and stored.uses == 1


def test_registration_is_audited_with_the_token(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    token_id, token = issue(provider, name="cpanel-01")
    body = register(app, token, {**METADATA, "contacts": ["ops@server1.example"]})
    actor, action, target, details = audit_rows(storage)[-1]
    assert (actor, action, target) == (
        f"initial-access-token:{token_id} (cpanel-01)",
        "client.register",
        body["client_id"],
    )
    assert json.loads(details)["fields"] == ["client_name", "redirect_uris", "scope"]
    assert body["client_secret"] not in details and token not in details


def test_unknown_metadata_is_ignored_and_defaults_filled(
    app: webtest.TestApp, provider: Provider
) -> None:
    _, token = issue(provider)
    body = register(
        app,
        token,
        {
            "redirect_uris": ["https://server2.example/cb"],
            "application_type": "web",
            "contacts": ["ops@server2.example"],
            "default_max_age": 3600,
        },
    )
    assert body["client_name"] == "server2.example"
    assert body["scope"] == "email openid profile"
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert "contacts" not in body and "application_type" not in body


def test_public_client_gets_no_secret(app: webtest.TestApp, provider: Provider) -> None:
    _, token = issue(provider)
    body = register(app, token, {**METADATA, "token_endpoint_auth_method": "none"})
    assert "client_secret" not in body and "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none" and body["require_pkce"] is True


def test_discovery_advertises_the_registration_endpoint(app: webtest.TestApp) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["registration_endpoint"] == f"{app.issuer}/register"


# -- RFC 7592 ---------------------------------------------------------------------------


def registered(app: webtest.TestApp, provider: Provider, **limits: Any) -> Registered:
    _, token = issue(provider, **limits)
    return Registered(app, register(app, token))


def test_read_rotates_the_registration_access_token(
    app: webtest.TestApp, provider: Provider
) -> None:
    client = registered(app, provider)
    first = client.token
    shown = client.use("GET")
    assert shown["client_id"] == client.rp.client_id and "client_secret" not in shown
    assert shown["redirect_uris"] == METADATA["redirect_uris"]
    assert shown["registration_access_token"] != first
    refused(app, "GET", client.path, first, status=401)
    client.use("GET")


def test_update_redirect_uris(
    app: webtest.TestApp, provider: Provider, storage: Storage, alice: Account
) -> None:
    client = registered(app, provider)
    uris = ["https://server1.example:2087/cb", "https://server1.example:2096/cb"]
    updated = client.replace(redirect_uris=uris, client_name="Server one (WHM)")
    assert updated["redirect_uris"] == uris and updated["client_name"] == "Server one (WHM)"
    assert "client_secret" not in updated
    assert signed_in(app, client, alice, "basic") == alice.subject
    actor, action, target, details = audit_rows(storage)[-1]
    assert (actor, action, target) == (
        f"registration-access-token:{client.rp.client_id}",
        "client.update",
        client.rp.client_id,
    )
    assert client.token not in details


def test_update_takes_defaults_for_omitted_fields_and_keeps_admin_ones(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    client = registered(app, provider)
    client.replace(client_uri="https://server1.example", require_pkce=True)
    provider.clients.update(client.rp.client_id, {"skip_consent": True}, "cli:tester")
    client.use(
        "PUT", {"client_id": client.rp.client_id, "redirect_uris": METADATA["redirect_uris"]}
    )
    row = stored_row(storage, client.rp.client_id)
    assert row["client_uri"] == "" and not row["require_pkce"]
    assert row["skip_consent"]  # an administrator's choice


def test_rotate_secret_kills_the_old_one_at_once(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client = registered(app, provider)
    old = client.rp
    answer = client.replace(reset_secret=True)
    assert answer["client_secret"] != old.client_secret
    assert signed_in(app, client, alice, "post") == alice.subject
    flow = Flow(app, old, alice)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 401 and response.json["error"] == "invalid_client"


def test_rotate_secret_with_grace_keeps_the_old_one(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client = registered(app, provider)
    old = client.rp
    client.replace(reset_secret=True, grace_seconds=600)
    flow = Flow(app, old, alice)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    assert signed_in(app, client, alice, "basic") == alice.subject


def test_delete(app: webtest.TestApp, provider: Provider, storage: Storage) -> None:
    client = registered(app, provider)
    token = client.token
    call(app, "DELETE", client.path, token, status=204)
    assert count_clients(storage) == 0
    refused(app, "GET", client.path, token, status=401)
    _, action, target, details = audit_rows(storage)[-1]
    assert (action, target) == ("client.delete", client.rp.client_id)
    assert token not in details


def test_open_registration(storage: Storage, database_url: str) -> None:
    """Only when the setting says so, registration needs no token (and has no limits)."""
    app = worker(storage, database_url, open_registration=True)
    body = register(app, None, {**METADATA, "scope": "openid offline_access"})
    assert audit_rows(storage)[-1][:2] == ("open-registration", "client.register")
    assert stored_row(storage, body["client_id"])["initial_access_token_id"] is None


def test_register_path_answers_only_post(app: webtest.TestApp) -> None:
    response = call(app, "GET", REGISTER, None, status=405)
    assert response.headers["Allow"] == "POST"


def test_console_shows_how_a_client_was_registered(
    app: webtest.TestApp, provider: Provider, admin: webtest.TestApp
) -> None:
    token_id, token = issue(provider)
    body = register(
        app,
        token,
        {
            **METADATA,
            "policy_uri": "https://server1.example/p",
            "tos_uri": "https://server1.example/t",
        },
    )
    page = admin.get(f"/admin/clients/{body['client_id']}").text
    assert f"with initial access token {token_id}</dd>" in page
    assert '<a href="https://server1.example/p" rel="noopener noreferrer">' in page
    assert '<a href="https://server1.example/t" rel="noopener noreferrer">' in page
