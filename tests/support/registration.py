"""Dynamic client registration for tests: initial access tokens issued straight through
storage, and a server that registers itself and manages its registration over HTTP
(RFC 7591, RFC 7592), every answer checked to be JSON, ``no-store`` and without CORS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import webtest

from oidc_core import Provider
from oidc_core.storage import Audit
from tests.support.admin_api import check_headers, response_json
from tests.support.flow import RP

REGISTER = "/register"
METADATA: dict[str, Any] = {
    "client_name": "Server one",
    "redirect_uris": ["https://server1.example/cb", "https://server1.example:2083/cb"],
    "scope": "openid profile email",
}


def issue(
    provider: Provider,
    *,
    uses: int = 1,
    expires_in: int = 3600,
    name: str = "server one",
    **limits: tuple[str, ...],
) -> tuple[int, str]:
    """An initial access token, as the CLI issues it: its id and its value."""
    record, token = provider.storage.initial_access_tokens.create(
        name, int(time.time()) + expires_in, uses, Audit("cli:tester", "iat.create"), **limits
    )
    return record.id, token


def call(
    app: webtest.TestApp,
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
    *,
    status: int,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> webtest.TestResponse:
    """One request with ``Authorization: Bearer <token>`` (none when None)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    kwargs: dict[str, Any] = {}
    if body is not None or raw is not None:
        kwargs["body"] = raw if raw is not None else json.dumps(body).encode()
        kwargs["content_type"] = content_type
    response = app.request(path, method=method, headers=headers, expect_errors=True, **kwargs)
    assert response.status_int == status, (response.status, response.text[:500])
    check_headers(response)
    if response.status_int == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    return response


def register(
    app: webtest.TestApp, token: str | None, metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Register a client; the RFC 7591 3.2.1 answer."""
    body: dict[str, Any] = response_json(
        call(app, "POST", REGISTER, token, metadata or METADATA, status=201)
    )
    return body


def refused(
    app: webtest.TestApp, method: str, path: str, token: str | None, body: Any = None, **kw: Any
) -> dict[str, Any]:
    """A refused request's error: a code and a description, nothing else."""
    response = call(app, method, path, token, body, **kw)
    error: dict[str, Any] = response_json(response)
    assert set(error) == {"error", "error_description"}, error
    assert error["error_description"] and "Traceback" not in response.text
    return error


def configuration_path(registered: dict[str, Any]) -> str:
    """The path of ``registration_client_uri`` on the provider."""
    uri: str = registered["registration_client_uri"]
    return uri[uri.index("/register/") :]


@dataclass
class Registered:
    """A client as the server that registered it knows it: its credentials and the current
    registration access token (each answer of the configuration endpoint replaces it)."""

    app: webtest.TestApp
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return configuration_path(self.body)

    @property
    def token(self) -> str:
        return str(self.body["registration_access_token"])

    @property
    def rp(self) -> RP:
        return RP(
            self.body["client_id"],
            self.body.get("client_secret", ""),
            list(self.body["redirect_uris"]),
        )

    def use(self, method: str, body: Any = None, status: int = 200) -> dict[str, Any]:
        """An RFC 7592 request with the current token; keeps the next one."""
        response = call(self.app, method, self.path, self.token, body, status=status)
        if status != 200:
            return {}
        answer: dict[str, Any] = response_json(response)
        secret = answer.get("client_secret", self.body.get("client_secret"))
        self.body = {**answer, **({"client_secret": secret} if secret else {})}
        return answer

    def replace(self, **changes: Any) -> dict[str, Any]:
        """RFC 7592 2.2: PUT the metadata as read, with ``changes``."""
        shown = {k: v for k, v in self.body.items() if k not in READ_ONLY}
        return self.use("PUT", {**shown, **changes})


# RFC 7592 2.2: "The client MUST NOT include the registration_access_token,
# registration_client_uri, client_secret_expires_at, or client_id_issued_at fields".
READ_ONLY = frozenset(
    {
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    }
)
