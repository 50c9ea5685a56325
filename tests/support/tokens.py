"""Helpers for the refresh, revocation, introspection and client credentials tests."""

from __future__ import annotations

import base64
from typing import Any

import webtest

from oidc_core.storage import Storage
from tests.conftest import make_client
from tests.support.flow import RP, Account, Flow

OFFLINE_SCOPES = "openid profile email offline_access"
WITH_REFRESH = ("authorization_code", "refresh_token")


def basic(rp: RP) -> dict[str, str]:
    creds = f"{rp.client_id}:{rp.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(creds).decode()}


def post_as(
    app: webtest.TestApp, path: str, rp: RP | None, data: dict[str, Any], auth: str = "basic"
) -> webtest.TestResponse:
    """POST a form as ``rp``: HTTP Basic, ``client_secret_post``, or only ``client_id``
    (``auth="public"``); ``rp=None`` sends no client authentication at all."""
    data = {k: v for k, v in data.items() if v is not None}
    headers: dict[str, str] = {}
    if rp is not None and auth == "basic":
        headers = basic(rp)
    elif rp is not None and auth == "post":
        data.update(client_id=rp.client_id, client_secret=rp.client_secret)
    elif rp is not None:
        data["client_id"] = rp.client_id
    return app.post(path, data, headers=headers, expect_errors=True)


def refresh(
    app: webtest.TestApp, rp: RP, token: str, auth: str = "basic", **extra: Any
) -> webtest.TestResponse:
    data = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return post_as(app, "/token", rp, data, auth)


def userinfo_status(app: webtest.TestApp, access_token: str) -> int:
    response = app.get(
        "/userinfo", headers={"Authorization": "Bearer " + access_token}, expect_errors=True
    )
    return int(response.status_int)


def offline_client(storage: Storage, name: str = "Offline RP", **kwargs: Any) -> RP:
    """A confidential client allowed refresh tokens and the offline_access scope."""
    values: dict[str, Any] = {"allowed_scopes": OFFLINE_SCOPES, "grant_types": WITH_REFRESH}
    values.update(kwargs)
    return make_client(storage, name, ["https://offline.example/cb"], **values)


def offline_tokens(flow: Flow, **overrides: Any) -> dict[str, Any]:
    """The token response of a code flow that asked for offline_access."""
    if flow.client.client_secret:
        code = flow.authorize(**overrides)["code"]
        response = flow.token(code)
    else:
        code = flow.code_with_pkce(**overrides)
        response = flow.token(code, auth="none", client_id=flow.client.client_id)
    assert response.status_int == 200, response.text
    body: dict[str, Any] = response.json
    return body


def offline_flow(app: webtest.TestApp, rp: RP, user: Account) -> Flow:
    return Flow(app, rp, user, scope="openid profile offline_access")
