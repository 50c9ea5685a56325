"""The reference billing system's provisioning script, for ``test_compat_api*.py``: form
posts to ``/includes/api.php`` with ``identifier`` and ``secret``, JSON read back; every
answer checked to be JSON, ``no-store``, without a cookie or a CORS header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import webtest

from oidc_core import Provider
from oidc_core.storage import Audit

PATH = "/includes/api.php"
CPANEL_REDIRECT_URIS = [
    f"https://server1.example.com:{port}/openid_connect_callback/oidc_core"
    for port in (2083, 2087, 2096)  # cPanel, WHM, Webmail
]

Value = str | int | list[str]


def new_token(provider: Provider, *scopes: str, name: str = "provisioning") -> tuple[int, str]:
    """A management API token with ``scopes``: its id and value."""
    record, token = provider.storage.admin_tokens.create(
        name, Audit("cli:tester", "admin_token.create"), scopes=scopes
    )
    return record.id, token


def form(fields: dict[str, Value]) -> list[tuple[str, str]]:
    """Fields as PHP's ``http_build_query`` sends them: a list as ``key[0]``, ``key[1]``..."""
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        if isinstance(value, list):
            pairs.extend((f"{key}[{index}]", item) for index, item in enumerate(value))
        else:
            pairs.append((key, str(value)))
    return pairs


def check_answer(response: webtest.TestResponse) -> dict[str, Any]:
    """The JSON body of an answer of the endpoint, its headers checked."""
    assert response.content_type == "application/json", response.text[:300]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert not any(name.lower().startswith("access-control-") for name in response.headers)
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json
    if body["result"] == "error":
        assert set(body) == {"result", "message"}, body
        assert body["message"], body
    return body


@dataclass
class Script:
    """A provisioning script: one management API token, as identifier and secret."""

    app: webtest.TestApp
    identifier: str
    secret: str

    def post(
        self, action: str, *, status: int = 200, **fields: Value
    ) -> tuple[webtest.TestResponse, dict[str, Any]]:
        sent = form(
            {
                "action": action,
                "identifier": self.identifier,
                "secret": self.secret,
                "responsetype": "json",
                **fields,
            }
        )
        response = self.app.post(PATH, sent, expect_errors=True)
        assert response.status_int == status, (response.status, response.text[:500])
        return response, check_answer(response)

    def call(self, action: str, **fields: Value) -> dict[str, Any]:
        """A successful action's answer."""
        body = self.post(action, **fields)[1]
        assert body["result"] == "success", body
        return body

    def refused(self, action: str, status: int, **fields: Value) -> str:
        """The message of a refused action."""
        body = self.post(action, status=status, **fields)[1]
        assert body["result"] == "error", body
        message: str = body["message"]
        return message
