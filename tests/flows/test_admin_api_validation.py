"""The management API refusing invalid metadata on create and update, nothing saved
(T-62).
"""

from __future__ import annotations

from typing import Any

import pytest

from oidc_core.storage import Storage
from tests.support.admin_api import CLIENTS, LONG, METADATA, Api, error_of
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.admin_api_checks import count_clients, stored_row

# Metadata validation is the same under every mount: it runs under one.
pytestmark = pytest.mark.mounts("one")


# -- T-62: what is refused on create and on update, and nothing saved -----------------------

INVALID: list[tuple[str, Any, str]] = [
    ("redirect_uris", ["https://rp.example/cb#fragment"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://rp.example/cb#"], "invalid_redirect_uri"),
    ("redirect_uris", ["javascript:alert(1)"], "invalid_redirect_uri"),
    ("redirect_uris", ["javascript://rp.example/%0aalert(1)"], "invalid_redirect_uri"),
    ("redirect_uris", ["data:text/html,<script>alert(1)</script>"], "invalid_redirect_uri"),
    ("redirect_uris", ["file:///etc/passwd"], "invalid_redirect_uri"),
    ("redirect_uris", ["http://rp.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["*"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://*.rp.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["//rp.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://rp.example/c b"], "invalid_redirect_uri"),
    ("redirect_uris", [" https://rp.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://rp.example/cb\n"], "invalid_redirect_uri"),
    ("redirect_uris", ["https://user:pw@rp.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", [LONG], "invalid_redirect_uri"),
    ("redirect_uris", [f"https://rp.example/{i}" for i in range(21)], "invalid_redirect_uri"),
    ("redirect_uris", ["https://rp.example/cb", "https://rp.example/cb"], "invalid_redirect_uri"),
    ("redirect_uris", [], "invalid_redirect_uri"),
    ("redirect_uris", "https://rp.example/cb", "invalid_redirect_uri"),
    ("redirect_uris", [42], "invalid_redirect_uri"),
    ("client_name", "", "invalid_client_metadata"),
    ("client_name", "   ", "invalid_client_metadata"),
    ("client_name", "n" * 256, "invalid_client_metadata"),
    ("client_name", 7, "invalid_client_metadata"),
    ("client_name", ["a"], "invalid_client_metadata"),
    ("description", "d" * 2001, "invalid_client_metadata"),
    ("client_uri", "javascript:alert(1)", "invalid_client_metadata"),
    ("logo_uri", "http://evil.example/logo.png", "invalid_client_metadata"),
    ("scope", "profile email", "invalid_client_metadata"),
    ("scope", "openid admin", "invalid_client_metadata"),
    ("scope", ["openid"], "invalid_client_metadata"),
    ("grant_types", ["implicit"], "invalid_client_metadata"),
    ("grant_types", ["client_credentials"], "invalid_client_metadata"),
    ("grant_types", ["authorization_code", "password"], "invalid_client_metadata"),
    ("grant_types", "authorization_code", "invalid_client_metadata"),
    ("access_token_format", "JWT", "invalid_client_metadata"),
    ("access_token_format", ["jwt"], "invalid_client_metadata"),
    ("response_types", ["token"], "invalid_client_metadata"),
    ("token_endpoint_auth_method", "private_key_jwt", "invalid_client_metadata"),
    ("token_endpoint_auth_method", None, "invalid_client_metadata"),
    ("require_pkce", "true", "invalid_client_metadata"),
    ("skip_consent", 1, "invalid_client_metadata"),
    ("access_token_ttl", 10, "invalid_client_metadata"),
    ("access_token_ttl", "600", "invalid_client_metadata"),
    ("id_token_ttl", True, "invalid_client_metadata"),
    ("client_secret", "chosen-by-me", "invalid_client_metadata"),
    ("client_id", "chosen-by-me", "invalid_client_metadata"),
    ("jwks_uri", "https://rp.example/jwks", "invalid_client_metadata"),
    ("service_id", 0, "invalid_client_metadata"),
    ("service_id", "12", "invalid_client_metadata"),
    ("service_id", 2**63, "invalid_client_metadata"),
    ("service_id", True, "invalid_client_metadata"),
    ("credential_grant_type", "implicit", "invalid_client_metadata"),
    ("credential_grant_type", ["single_sign_on"], "invalid_client_metadata"),
]
IDS = [f"{field}-{i}" for i, (field, _, _) in enumerate(INVALID)]


@pytest.mark.parametrize(("field", "value", "error"), INVALID, ids=IDS)
def test_t62_create_refuses_invalid_metadata_naming_the_field(
    admin: Api, storage: Storage, field: str, value: Any, error: str
) -> None:
    response = admin.call("POST", CLIENTS, {**METADATA, field: value}, status=400)
    body = error_of(response)
    assert (body["error"], body["field"]) == (error, field)
    assert body["error_description"].startswith(field + ":")
    assert count_clients(storage) == 0
    assert [e.action for e in storage.audit.entries()] == ["admin_token.create"]


@pytest.mark.parametrize(("field", "value", "error"), INVALID, ids=IDS)
def test_t62_update_refuses_invalid_metadata_naming_the_field(
    admin: Api, storage: Storage, field: str, value: Any, error: str
) -> None:
    created = admin.create()
    row_before = stored_row(storage, created["client_id"])
    response = admin.call("PATCH", f"{CLIENTS}/{created['client_id']}", {field: value}, status=400)
    body = error_of(response)
    assert (body["error"], body["field"]) == (error, field)
    assert stored_row(storage, created["client_id"]) == row_before
    assert count_clients(storage) == 1


@pytest.mark.parametrize("missing", ["client_name", "redirect_uris"])
def test_create_requires_name_and_redirect_uris(admin: Api, storage: Storage, missing: str) -> None:
    body = {k: v for k, v in METADATA.items() if k != missing}
    assert error_of(admin.call("POST", CLIENTS, body, status=400))["field"] == missing
    assert count_clients(storage) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b'"text"',
        b"null",
        b"{",
        b"\xff\xfe{}",
        b'{"client_name": "a", "client_name": "b"}',
        b"[" * 30_000 + b"]" * 30_000,
    ],
    ids=["empty", "array", "string", "null", "truncated", "not-utf8", "duplicate-key", "deep"],
)
def test_a_body_that_is_not_one_json_object_is_refused(
    admin: Api, storage: Storage, raw: bytes
) -> None:
    response = admin.call("POST", CLIENTS, raw=raw, status=400)
    assert error_of(response)["error"] == "invalid_request"
    assert count_clients(storage) == 0
