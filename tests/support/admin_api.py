"""The management API client for tests (:class:`Api`): every response checked to be JSON
(or an empty 204), ``no-store`` and without CORS headers; tokens and stored rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Audit

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


def new_token(
    provider: Provider, name: str = "provisioning", scopes: tuple[str, ...] = ("admin",)
) -> tuple[int, str]:
    record, token = provider.storage.admin_tokens.create(
        name, Audit("cli:tester", "admin_token.create"), scopes
    )
    return record.id, token


@pytest.fixture
def api_token(provider: Provider) -> tuple[int, str]:
    return new_token(provider)


@pytest.fixture
def admin(app: webtest.TestApp, api_token: tuple[int, str]) -> Api:
    return Api(app, api_token[1])


def error_of(response: webtest.TestResponse) -> dict[str, Any]:
    body: dict[str, Any] = response_json(response)
    assert set(body) <= {"error", "error_description", "field"}, body
    assert "Traceback" not in response.text
    return body


LONG = "https://rp.example/" + "a" * 2030
