"""The management API under /admin/api/ (SECURITY-CHECKLIST T-60, T-62, T-63).

Every call goes through WebTest against the real provider and database; the helper checks
on every response that it is JSON (or an empty 204), ``no-store`` and without CORS headers.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import pytest
import webtest
from openapi_spec_validator import validate

from oidc_core import Provider
from oidc_core.admin import api
from oidc_core.credentials import digest
from oidc_core.storage import Audit, Storage
from tests.support.flow import RP, Account, Flow, issuer_of

# The management API's own rules (validation, authentication, audit) are the same
# under every mount: they run under one.  The tests marked mounts("every") exercise what a
# mount changes (URLs under the prefix, status codes and headers through the host framework).
pytestmark = pytest.mark.mounts("one")

CLIENTS = "/admin/api/clients"
METADATA = {
    "client_name": "Control panel",
    "description": "Provisioned by a script",
    "client_uri": "https://panel.example",
    "logo_uri": "https://panel.example/logo.png",
    "redirect_uris": ["https://panel.example/cb", "http://127.0.0.1:8080/cb"],
    "scope": "openid email",
}


@dataclass
class Api:
    """A provisioning script: one admin API token, JSON in and out."""

    app: webtest.TestApp
    token: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> webtest.TestResponse:
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        kwargs: dict[str, Any] = {}
        if body is not None or raw is not None:
            kwargs["body"] = raw if raw is not None else json.dumps(body).encode()
            kwargs["content_type"] = content_type
        response = self.app.request(path, method=method, headers=sent, expect_errors=True, **kwargs)
        assert response.status_int == status, (response.status, response.text[:500])
        check_headers(response)
        return response

    def create(self, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = response_json(
            self.call("POST", CLIENTS, {**METADATA, **overrides}, status=201)
        )
        return data

    def get(self, client_id: str) -> dict[str, Any]:
        data: dict[str, Any] = response_json(self.call("GET", f"{CLIENTS}/{client_id}", status=200))
        return data


def check_headers(response: webtest.TestResponse) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert not any(name.lower().startswith("access-control-") for name in response.headers)
    if response.status_int == 204:
        assert response.body == b""
    else:
        assert response.content_type == "application/json"


def response_json(response: webtest.TestResponse) -> Any:
    return json.loads(response.body)


def new_token(provider: Provider, name: str = "provisioning") -> tuple[int, str]:
    record, token = provider.storage.admin_tokens.create(
        name, Audit("cli:tester", "admin_token.create")
    )
    return record.id, token


@pytest.fixture
def api_token(provider: Provider) -> tuple[int, str]:
    return new_token(provider)


@pytest.fixture
def admin(app: webtest.TestApp, api_token: tuple[int, str]) -> Api:
    return Api(app, api_token[1])


def count_clients(storage: Storage) -> int:
    return int(storage.database.execute_sql("SELECT COUNT(*) FROM oidc_client").fetchone()[0])


def stored_row(storage: Storage, client_id: str) -> dict[str, Any]:
    cursor = storage.database.execute_sql(
        "SELECT * FROM oidc_client WHERE client_id = "
        + ("?" if storage.url.startswith("sqlite") else "%s"),
        (client_id,),
    )
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def error_of(response: webtest.TestResponse) -> dict[str, Any]:
    body: dict[str, Any] = response_json(response)
    assert set(body) <= {"error", "error_description", "field"}, body
    assert "Traceback" not in response.text
    return body


def rp_of(created: dict[str, Any], secret: str | None = None) -> RP:
    return RP(created["client_id"], secret or created["client_secret"], created["redirect_uris"])


def token_status(app: webtest.TestApp, client: RP, user: Account) -> tuple[int, dict[str, Any]]:
    """Run the code flow for ``client`` and redeem the code with its (clear) secret."""
    flow = Flow(app, client, user, scope="openid email")
    response = flow.token(flow.authorize()["code"])
    return response.status_int, response.json


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


# -- T-62: what is refused on create and on update, and nothing saved -----------------------

LONG = "https://rp.example/" + "a" * 2030
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


# -- authentication -------------------------------------------------------------------------


@pytest.mark.mounts("every")
def test_missing_token_is_401_with_a_bearer_challenge(
    app: webtest.TestApp, storage: Storage
) -> None:
    for method, path in [("GET", CLIENTS), ("POST", CLIENTS), ("DELETE", f"{CLIENTS}/x")]:
        response = app.request(path, method=method, expect_errors=True)
        assert response.status_int == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="oidc-core admin"'
        check_headers(response)
        assert "error" in error_of(response)
    assert count_clients(storage) == 0


def revoked_token(provider: Provider) -> str:
    token_id, token = new_token(provider, "old script")
    assert provider.storage.admin_tokens.revoke(token_id, Audit("cli:tester", "admin_token.revoke"))
    return token


@pytest.mark.parametrize(
    "authorization",
    [
        lambda p, t: "Bearer garbage",
        lambda p, t: "Bearer " + t + "x",
        lambda p, t: "Bearer " + revoked_token(p),
        lambda p, t: "Basic " + t,
        lambda p, t: "Bearer",
        lambda p, t: "Bearer   ",
        lambda p, t: t,
        lambda p, t: "Bearer " + "a" * 4000,
    ],
    ids=["garbage", "altered", "revoked", "basic", "no-token", "blank", "no-scheme", "long"],
)
def test_bad_credentials_are_401_invalid_token_and_change_nothing(
    app: webtest.TestApp, admin: Api, provider: Provider, authorization: Any
) -> None:
    created = admin.create()
    header = {"Authorization": authorization(provider, admin.token)}
    for method, path, body in [
        ("GET", CLIENTS, None),
        ("POST", CLIENTS, METADATA),
        ("PATCH", f"{CLIENTS}/{created['client_id']}", {"reset_secret": True}),
        ("DELETE", f"{CLIENTS}/{created['client_id']}", None),
    ]:
        response = app.request(
            path,
            method=method,
            headers=header,
            body=json.dumps(body).encode() if body else b"",
            content_type="application/json" if body else None,
            expect_errors=True,
        )
        assert response.status_int == 401, response.text
        check_headers(response)
        assert error_of(response)["error"] == "invalid_token"
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="oidc-core admin", error="invalid_token"')
    assert count_clients(provider.storage) == 1
    assert admin.get(created["client_id"]) == {
        k: v for k, v in created.items() if k != "client_secret"
    }


def test_the_bearer_scheme_is_case_insensitive(app: webtest.TestApp, admin: Api) -> None:
    response = app.get(CLIENTS, headers={"Authorization": "bEaReR " + admin.token})
    assert response.json == {"clients": []}


# -- T-60: cross-origin writes --------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


@pytest.mark.mounts("every")
@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        (FORM, b"client_name=Evil&redirect_uris=https%3A%2F%2Fevil.example%2Fcb"),
        ("text/plain", json.dumps({**METADATA, "client_name": "Evil"}).encode()),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
        ),
        ("application/json-patch+json", json.dumps(METADATA).encode()),
        ("", json.dumps(METADATA).encode()),
    ],
    ids=["form", "text-plain", "multipart", "other-json", "none"],
)
def test_t60_cross_origin_style_writes_are_415_and_change_nothing(
    admin: Api, storage: Storage, content_type: str, raw: bytes
) -> None:
    created = admin.create()
    origin = {"Origin": "https://evil.example", "Referer": "https://evil.example/"}
    for method, path in [("POST", CLIENTS), ("PATCH", f"{CLIENTS}/{created['client_id']}")]:
        response = admin.call(
            method, path, raw=raw, content_type=content_type, headers=origin, status=415
        )
        assert error_of(response)["error"] == "unsupported_media_type"
    assert count_clients(storage) == 1
    assert admin.get(created["client_id"])["client_name"] == METADATA["client_name"]
    assert [e.action for e in storage.audit.entries()] == ["client.create", "admin_token.create"]


@pytest.mark.mounts("every")
def test_t60_an_anonymous_cross_origin_form_post_is_refused(
    app: webtest.TestApp, storage: Storage
) -> None:
    response = app.post(
        CLIENTS,
        {"client_name": "Evil", "redirect_uris": "https://evil.example/cb"},
        headers={"Origin": "https://evil.example"},
        expect_errors=True,
    )
    assert response.status_int == 401
    check_headers(response)
    assert count_clients(storage) == 0


@pytest.mark.mounts("every")
def test_t60_no_cors_preflight_is_answered(admin: Api) -> None:
    response = admin.call(
        "OPTIONS",
        CLIENTS,
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        status=405,
    )
    assert response.headers["Allow"] == "GET, POST"


# -- routing, OpenAPI -----------------------------------------------------------------------


@pytest.mark.mounts("every")
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", CLIENTS, "GET, POST"),
        ("DELETE", CLIENTS, "GET, POST"),
        ("POST", f"{CLIENTS}/abc", "GET, PATCH, DELETE"),
        ("PUT", f"{CLIENTS}/abc", "GET, PATCH, DELETE"),
        ("POST", "/admin/api/openapi.json", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    admin: Api, storage: Storage, method: str, path: str, allow: str
) -> None:
    response = admin.call(method, path, METADATA, status=405)
    assert response.headers["Allow"] == allow
    assert error_of(response)["error"] == "method_not_allowed"
    assert count_clients(storage) == 0


@pytest.mark.mounts("every")
@pytest.mark.parametrize(
    "path",
    ["/admin/api/", "/admin/api/client", f"{CLIENTS}/", f"{CLIENTS}/abc/secret", "/admin/api/x"],
)
def test_unknown_path_is_404_json(admin: Api, path: str) -> None:
    assert error_of(admin.call("GET", path, status=404))["error"] == "not_found"


@pytest.mark.mounts("every")
def test_a_body_over_the_limit_is_413_json(admin: Api, storage: Storage) -> None:
    body = {**METADATA, "description": "x" * 70_000}
    assert error_of(admin.call("POST", CLIENTS, body, status=413))["error"] == "invalid_request"
    assert count_clients(storage) == 0


def _resolve(document: dict[str, Any], node: Any) -> None:
    """Every $ref in ``node`` points into ``document``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
        for value in node.values():
            _resolve(document, value)
    elif isinstance(node, list):
        for value in node:
            _resolve(document, value)


@pytest.mark.mounts("every")
def test_the_openapi_document_describes_exactly_the_routes(app: webtest.TestApp) -> None:
    response = app.get("/admin/api/openapi.json")  # no token needed
    check_headers(response)
    document = json.loads(response.body)
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": issuer_of(app)}]
    assert document["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    _resolve(document, document)
    validate(document)  # the OpenAPI 3.1 meta-schema, by openapi-spec-validator

    http_methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    described = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in http_methods
    }
    served = {(path, method) for path, methods in api.ROUTES.items() for method in methods}
    assert described == served
    for path, item in document["paths"].items():
        for method in set(item) & http_methods:
            operation = item[method]
            assert operation["responses"], (path, method)
            if path not in api.UNAUTHENTICATED:
                assert "401" in operation["responses"], (path, method)
                assert "security" not in operation  # the document-wide bearer applies
    writable = document["components"]["schemas"]["ClientCreate"]["properties"]
    from oidc_core.registration import FIELDS

    assert set(writable) == FIELDS


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
