"""What the billing system's credential API refuses: requests without a live token or with
one that does not match, too few scopes, other methods and body types, invalid fields
(named by the reference system's names), unknown actions and credentials.  Each is a clear
``"result": "error"`` with its HTTP status, and the database is left exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin import scopes
from oidc_core.storage import Audit
from tests.support import snapshot
from tests.support.compat_api import PATH, Script, check_answer, form, new_token
from tests.support.mounts import MountedApp

pytestmark = pytest.mark.mounts("one")

CB = "https://panel.example/cb"
CREATE: dict[str, Any] = {"grantType": "authorization_code", "name": "Panel", "redirectUri": [CB]}


@pytest.fixture
def writer(app: MountedApp, provider: Provider) -> Script:
    token_id, token = new_token(provider, scopes.CLIENTS_WRITE)
    return Script(app, str(token_id), token)


@pytest.fixture
def credential(writer: Script) -> dict[str, Any]:
    return writer.call("CreateOAuthCredential", **CREATE)


@contextmanager
def nothing_changes(provider: Provider) -> Iterator[None]:
    before = snapshot.database(provider.storage)
    yield
    assert snapshot.database(provider.storage) == before


def _post(app: webtest.TestApp, status: int, **kwargs: Any) -> str:
    response = app.post(PATH, expect_errors=True, **kwargs)
    assert response.status_int == status, (response.status, response.text[:300])
    body = check_answer(response)
    assert body["result"] == "error"
    message: str = body["message"]
    return message


# -- who asks -------------------------------------------------------------------------------


def test_no_token_wrong_token_and_revoked_token_are_401(
    app: MountedApp, provider: Provider, writer: Script
) -> None:
    revoked_id, revoked = new_token(provider, scopes.CLIENTS_WRITE, name="old")
    provider.storage.admin_tokens.revoke(revoked_id, Audit("cli:tester", "admin_token.revoke"))
    fields = form({"action": "CreateOAuthCredential", **CREATE})
    with nothing_changes(provider):
        missing = app.post(PATH, fields, expect_errors=True)
        assert missing.status_int == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        assert "token is required" in check_answer(missing)["message"]
        for secret in ("not-a-token", writer.secret[:-1], revoked):
            message = _post(app, 401, params=[*fields, ("secret", secret)])
            assert "unknown or revoked" in message
        message = _post(app, 401, params=fields, headers={"Authorization": "Basic Zm9vOmJhcg=="})
        assert "Bearer" in message


def test_an_identifier_that_is_not_the_tokens_id_is_refused(
    provider: Provider, writer: Script
) -> None:
    other_id, _ = new_token(provider, scopes.CLIENTS_WRITE, name="other")
    for identifier in (str(other_id), "provisioning", "0"):
        with nothing_changes(provider):
            script = Script(writer.app, identifier, writer.secret)
            assert "identifier" in script.refused("CreateOAuthCredential", 401, **CREATE)


def test_the_bearer_header_and_the_older_username_password_names_authenticate(
    app: MountedApp, provider: Provider, writer: Script
) -> None:
    bearer = {"Authorization": f"Bearer {writer.secret}"}
    listed = app.post(PATH, {"action": "ListOAuthCredentials"}, headers=bearer)
    assert check_answer(listed) == {"result": "success", "totalresults": 0, "clients": []}
    legacy = [("action", "ListOAuthCredentials"), ("username", writer.identifier),
              ("password", writer.secret)]  # fmt: skip
    assert check_answer(app.post(PATH, legacy))["result"] == "success"
    assert writer.call("listoauthcredentials")["totalresults"] == 0  # names in any case
    with nothing_changes(provider):
        both = [("action", "ListOAuthCredentials"), ("secret", writer.secret)]
        assert "once" in _post(app, 400, params=both, headers=bearer)
        twice = [*legacy, ("secret", writer.secret)]
        assert "not both" in _post(app, 400, params=twice)


def test_a_read_only_token_cannot_create_and_a_metrics_token_cannot_list(
    app: MountedApp, provider: Provider, credential: dict[str, Any]
) -> None:
    reader_id, reader = new_token(provider, scopes.CLIENTS_READ, name="reader")
    scraper_id, scraper = new_token(provider, scopes.METRICS_READ, name="scraper")
    read_only = Script(app, str(reader_id), reader)
    with nothing_changes(provider):
        message = read_only.refused("CreateOAuthCredential", 403, **CREATE)
        assert "clients:write" in message
        for action in ("UpdateOAuthCredential", "DeleteOAuthCredential"):
            read_only.refused(action, 403, credentialId=credential["credentialId"], name="x")
        assert read_only.call("ListOAuthCredentials")["totalresults"] == 1
        message = Script(app, str(scraper_id), scraper).refused("ListOAuthCredentials", 403)
        assert "clients:read" in message


# -- how it is asked ------------------------------------------------------------------------


def test_only_posted_forms_are_answered(
    app: MountedApp, provider: Provider, writer: Script
) -> None:
    bearer = {"Authorization": f"Bearer {writer.secret}"}
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    with nothing_changes(provider):
        for method in ("GET", "PUT", "DELETE", "OPTIONS"):
            sent = {**bearer, **preflight} if method == "OPTIONS" else bearer
            response = app.request(PATH, method=method, headers=sent, expect_errors=True)
            assert response.status_int == 405, response.status
            assert response.headers["Allow"] == "POST"
            check_answer(response)
        listing = {"action": "ListOAuthCredentials", "secret": writer.secret}
        cross_site = app.post(PATH, listing, headers={"Origin": "https://evil.example"})
        assert check_answer(cross_site)["result"] == "success"  # and no CORS header
        body = json.dumps({"action": "CreateOAuthCredential", **CREATE})
        for content_type in ("application/json", "text/plain", ""):
            message = _post(app, 415, params=body, headers=bearer, content_type=content_type)
            assert "form" in message


def test_a_multipart_form_is_answered_but_a_file_is_not_accepted(
    app: MountedApp, provider: Provider, writer: Script
) -> None:
    fields = [("action", "CreateOAuthCredential"), ("identifier", writer.identifier),
              ("secret", writer.secret), ("grantType", "single_sign_on"), ("serviceId", "5"),
              ("redirectUri[]", CB), ("redirectUri[]", "https://panel.example/cb2")]  # fmt: skip
    created = check_answer(app.post(PATH, fields, content_type="multipart/form-data"))
    client = provider.storage.clients.by_id(created["credentialId"])
    assert client is not None and client.redirect_uris == (CB, "https://panel.example/cb2")
    with nothing_changes(provider):
        upload = [("description", "logo.png", b"\x89PNG")]
        message = _post(app, 400, params=fields, upload_files=upload)
        assert message == "description: files are not accepted"


def test_responsetype_other_than_json_unknown_actions_and_parameters_are_refused(
    provider: Provider, writer: Script
) -> None:
    with nothing_changes(provider):
        message = writer.refused("CreateOAuthCredential", 400, responsetype="xml", **CREATE)
        assert message == "responsetype: only json is supported"
        message = writer.refused("GetClients", 400)
        assert "GetClients" in message
        for action in ("CreateOAuthCredential", "ListOAuthCredentials", "UpdateOAuthCredential",
                       "DeleteOAuthCredential"):  # fmt: skip
            assert action in message
        assert "action is required" in writer.refused("", 400)
        message = writer.refused("CreateOAuthCredential", 400, clientSecret="mine", **CREATE)
        assert message == "clientSecret: not a parameter of CreateOAuthCredential"
        message = writer.refused("ListOAuthCredentials", 400, name="x")
        assert message == "name: not a parameter of ListOAuthCredentials"
        repeated = [*form({"action": "CreateOAuthCredential", "identifier": writer.identifier,
                           "secret": writer.secret, **CREATE}), ("name", "Other")]  # fmt: skip
        assert _post(writer.app, 400, params=repeated) == "name: given more than once"


# -- what it asks for -----------------------------------------------------------------------

INVALID_CREATE = [
    ({"redirectUri": ["http://panel.example/cb"]}, "redirectUri: "),
    ({"redirectUri": ["https://panel.example/cb#x"]}, "redirectUri: "),
    ({"redirectUri": [CB, CB]}, "redirectUri: duplicate redirect URI"),
    ({"redirectUri": []}, "redirectUri: is required"),
    ({"name": ""}, "name: must be 1 to 255 characters"),
    ({"name": "evil\u202ename"}, "name: must not contain control characters"),
    ({"logoUri": "javascript:alert(1)"}, "logoUri: "),
    ({"scope": "clientarea:sso"}, "scope: unsupported scope"),
    ({"grantType": "password"}, "grantType: must be one of authorization_code, single_sign_on"),
    ({"grantType": ""}, "grantType: must be one of"),
    ({"grantType": "single_sign_on"}, "serviceId: is required for the single_sign_on"),
    ({"serviceId": "abc"}, "serviceId: must be a positive whole number"),
    ({"serviceId": "0"}, "serviceId: must be a positive whole number"),
    ({"serviceId": "-3"}, "serviceId: must be a positive whole number"),
    ({"serviceId": "1.5"}, "serviceId: must be a positive whole number"),
    ({"serviceId": "9" * 30}, "serviceId: must be a positive whole number"),
    ({"serviceId": str(2**63)}, "serviceId: must be a positive whole number"),
]


@pytest.mark.parametrize(("change", "expected"), INVALID_CREATE)
def test_invalid_fields_are_named_as_the_reference_system_names_them(
    provider: Provider, writer: Script, change: dict[str, Any], expected: str
) -> None:
    fields = {**CREATE, **change}
    if change == {"redirectUri": []}:
        del fields["redirectUri"]
    with nothing_changes(provider):
        message = writer.refused("CreateOAuthCredential", 400, **fields)
        assert message.startswith(expected), message


def test_a_credential_needs_a_grant_type(provider: Provider, writer: Script) -> None:
    fields = {key: value for key, value in CREATE.items() if key != "grantType"}
    with nothing_changes(provider):
        message = writer.refused("CreateOAuthCredential", 400, **fields)
        assert message == "grantType: is required: authorization_code or single_sign_on"


def test_an_invalid_update_changes_nothing_not_even_the_secret(
    provider: Provider, writer: Script, credential: dict[str, Any]
) -> None:
    credential_id = credential["credentialId"]
    with nothing_changes(provider):
        evil = ["http://evil.example/cb"]
        message = writer.refused("UpdateOAuthCredential", 400, credentialId=credential_id,
                                 resetSecret="1", redirectUri=evil)  # fmt: skip
        assert message.startswith("redirectUri: ")
        message = writer.refused("UpdateOAuthCredential", 400, credentialId=credential_id,
                                 resetSecret="maybe")  # fmt: skip
        assert message == "resetSecret: must be true or false (1 or 0)"
        message = writer.refused("UpdateOAuthCredential", 400, credentialId=credential_id)
        assert message.startswith("nothing to change")
        message = writer.refused("UpdateOAuthCredential", 400, credentialId=credential_id,
                                 grantType="single_sign_on")  # fmt: skip
        assert message.startswith("serviceId: is required")


@pytest.mark.parametrize("action", ["UpdateOAuthCredential", "DeleteOAuthCredential"])
def test_unknown_and_malformed_credential_ids(
    provider: Provider, writer: Script, credential: dict[str, Any], action: str
) -> None:
    missing = credential["credentialId"] + 1000
    change = {"name": "New name"} if action == "UpdateOAuthCredential" else {}
    with nothing_changes(provider):
        for unknown in (missing, "9" * 40, 2**31):
            message = writer.refused(action, 404, credentialId=unknown, **change)
            assert message == "no credential with this credentialId"
        for malformed in ("abc", "0", "-1", "1e3", ""):
            message = writer.refused(action, 400, credentialId=malformed, **change)
            assert message.startswith("credentialId: ")
        assert writer.refused(action, 400, **change) == "credentialId: is required"


def test_bad_listing_parameters(provider: Provider, writer: Script) -> None:
    with nothing_changes(provider):
        for fields, expected in (
            ({"grantType": "implicit"}, "grantType: must be one of"),
            ({"sortField": "secret"}, "sortField: must be one of"),
            ({"sortOrder": "sideways"}, "sortOrder: must be ASC or DESC"),
            ({"limit": "0"}, "limit: must be between 1 and 1000"),
            ({"limit": "1001"}, "limit: must be between 1 and 1000"),
            ({"limit": "ten"}, "limit: must be a whole number"),
        ):
            message = writer.refused("ListOAuthCredentials", 400, **fields)
            assert message.startswith(expected), message
