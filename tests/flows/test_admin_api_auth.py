"""The management API's authentication and cross-origin writes (T-60)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Audit, Storage
from tests.support.admin_api import CLIENTS, METADATA, Api, check_headers, error_of, new_token
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.admin_api_checks import count_clients

# Authentication is decided before any mount's glue matters, unless marked mounts("every").
pytestmark = pytest.mark.mounts("one")


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
