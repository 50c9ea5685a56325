"""The reference billing system's credential API driven as its provisioning scripts drive
it: form posts to ``/includes/api.php`` with ``identifier`` and ``secret``, JSON read back.
The credential it creates signs a user in (code flow, ``client_secret_post``, the ID token
verified with PyJWT); its secret reset kills the old one at once; the listing holds no
secret; deleting it kills its tokens.  (``tests/interop/test_compat_api_live.py``: the
same against a live server, with urllib.)
"""

from __future__ import annotations

import json

import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin import scopes
from tests.support.admin_api import Api
from tests.support.admin_console import admin as admin
from tests.support.client_admin import userinfo
from tests.support.compat_api import CPANEL_REDIRECT_URIS, Script, new_token
from tests.support.flow import RP, Account, Flow, verify_id_token
from tests.support.mounts import MountedApp


def _signs_in(app: MountedApp, rp: RP, alice: Account) -> dict[str, str]:
    """The code flow of ``rp`` with client_secret_post, as cPanel does it; its tokens."""
    flow = Flow(app, rp, alice)
    response = flow.token(flow.authorize()["code"], auth="post")
    assert response.status_int == 200, response.text
    claims = verify_id_token(app, response.json["id_token"], rp.client_id)
    assert claims["sub"] == alice.subject
    tokens: dict[str, str] = response.json
    return tokens


def _refused_secret(app: MountedApp, rp: RP, alice: Account) -> None:
    flow = Flow(app, rp, alice)
    response = flow.token(flow.authorize()["code"], auth="post")
    assert response.status_int == 401, response.text
    assert response.json["error"] == "invalid_client"


def test_a_provisioning_script_drives_the_four_actions(
    app: MountedApp, provider: Provider, alice: Account
) -> None:
    token_id, token = new_token(provider, scopes.CLIENTS_WRITE)
    script = Script(app.new_browser(), str(token_id), token)

    created = script.call(
        "CreateOAuthCredential",
        grantType="single_sign_on",
        scope="openid profile email",
        serviceId=42,
        name="cPanel",
        description="server1.example.com",
        logoUri="/modules/servers/cpanel/logo.png",
        redirectUri=CPANEL_REDIRECT_URIS,
    )
    assert set(created) == {"result", "credentialId", "clientIdentifier", "clientSecret"}
    credential_id = created["credentialId"]
    client = provider.storage.clients.by_id(credential_id)
    assert client is not None and client.client_id == created["clientIdentifier"]
    assert (client.service_id, client.credential_grant_type) == (42, "single_sign_on")
    assert client.redirect_uris == tuple(CPANEL_REDIRECT_URIS) and not client.is_public
    rp = RP(client.client_id, created["clientSecret"], CPANEL_REDIRECT_URIS)
    tokens = _signs_in(app, rp, alice)

    reset = script.call("UpdateOAuthCredential", credentialId=credential_id, resetSecret="true")
    assert set(reset) == {"result", "credentialId", "newClientSecret"}
    assert reset["credentialId"] == credential_id
    _refused_secret(app, rp, alice)  # the old secret died at once
    rp = RP(client.client_id, reset["newClientSecret"], CPANEL_REDIRECT_URIS)
    _signs_in(app, rp, alice)

    moved = ["https://server2.example.com:2083/openid_connect_callback/oidc_core"]
    changed = script.call(
        "UpdateOAuthCredential", credentialId=credential_id, redirectUri=moved, name="cPanel 2"
    )
    assert changed == {"result": "success", "credentialId": credential_id}
    _signs_in(app, RP(rp.client_id, rp.client_secret, moved), alice)  # the secret was kept

    response, listing = script.post("ListOAuthCredentials")
    for secret in (created["clientSecret"], reset["newClientSecret"]):
        assert secret not in response.text
    assert "secret" not in response.text.lower()
    assert listing["totalresults"] == 1
    [listed] = listing["clients"]
    assert listed["credentialId"] == credential_id
    assert listed["clientIdentifier"] == client.client_id
    assert (listed["name"], listed["description"]) == ("cPanel 2", "server1.example.com")
    assert (listed["grantTypes"], listed["serviceId"]) == ("single_sign_on", 42)
    assert (listed["scope"], listed["redirectUri"]) == ("email openid profile", moved)
    assert listed["logoUri"] == "/modules/servers/cpanel/logo.png"
    assert listed["createdAt"][:2] == "20" and len(listed["updatedAt"]) == 19

    deleted = script.call("DeleteOAuthCredential", credentialId=credential_id)
    assert deleted == {"result": "success", "credentialId": credential_id}
    assert provider.storage.clients.by_id(credential_id) is None
    assert userinfo(app, tokens["access_token"]).status_int == 401
    assert Flow(app, rp, alice).start().status_int == 400  # "not registered"

    entries = [e for e in reversed(provider.storage.audit.entries()) if e.target == rp.client_id]
    assert [entry.action for entry in entries] == [
        "client.create",
        "client.reset_secret",
        "client.update",
        "client.delete",
    ]
    assert {entry.actor for entry in entries} == {f"api-token:{token_id} (provisioning)"}
    assert not any(secret in json.dumps(entry.details) for entry in entries for secret in (
        created["clientSecret"], reset["newClientSecret"]))  # fmt: skip


@pytest.mark.mounts("one")
def test_an_authorization_code_credential_and_the_listing_filters(
    app: MountedApp, provider: Provider
) -> None:
    token_id, token = new_token(provider, scopes.CLIENTS_WRITE)
    script = Script(app, str(token_id), token)
    ids = [
        script.call(
            "CreateOAuthCredential",
            grantType="authorization_code",
            name=f"App {n}",
            redirectUri=f"https://app{n}.example/cb",  # a single value, not an array
        )["credentialId"]
        for n in (1, 2)
    ]
    sso = script.call(
        "CreateOAuthCredential",
        grantType="single_sign_on",
        serviceId=7,  # no name: it is named after its service
        redirectUri=["https://sso.example/cb"],
    )["credentialId"]
    client = provider.storage.clients.by_id(sso)
    assert client is not None and client.name == "Service 7"
    # A client made elsewhere (console, API, CLI) is an authorization-code credential.
    other, _ = provider.clients.create(
        {"client_name": "Console RP", "redirect_uris": ["https://c.example/cb"]}, "admin@x"
    )

    def listed(**fields: str | int) -> tuple[int, list[int]]:
        body = script.call("ListOAuthCredentials", **fields)
        return body["totalresults"], [c["credentialId"] for c in body["clients"]]

    assert listed() == (4, [*ids, sso, other.id])
    assert listed(grantType="single_sign_on") == (1, [sso])
    assert listed(grantType="authorization_code") == (3, [*ids, other.id])
    assert listed(sortField="credentialId", sortOrder="DESC", limit=2) == (4, [other.id, sso])
    assert listed(sortField="name", sortOrder="asc") == (4, [ids[0], ids[1], other.id, sso])


@pytest.mark.mounts("one")
def test_the_console_and_the_json_api_show_the_billing_fields(
    app: MountedApp, provider: Provider, admin: webtest.TestApp
) -> None:
    token_id, token = new_token(provider, scopes.ADMIN)
    created = Script(app, str(token_id), token).call(
        "CreateOAuthCredential", grantType="single_sign_on", serviceId=314,
        redirectUri=CPANEL_REDIRECT_URIS,
    )  # fmt: skip
    client_id = created["clientIdentifier"]
    page = admin.get(f"/admin/clients/{client_id}")
    assert "Billing grant type" in page.text and "<code>single_sign_on</code>" in page.text
    assert "Billing service ID</dt><dd>314</dd>" in page.text
    metadata = Api(app, token).get(client_id)
    assert (metadata["service_id"], metadata["credential_grant_type"]) == (314, "single_sign_on")
