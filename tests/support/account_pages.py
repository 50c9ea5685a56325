"""Helpers for the account pages' tests (docs/account.md): signing in, CSRF tokens, posts,
relying parties with refresh tokens, and what the pages list.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import make_client, new_app
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.tokens import OFFLINE_SCOPES, WITH_REFRESH, post_as, refresh, userinfo_status

ROOT = "https://op.example"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def sign_in(app: webtest.TestApp, email: str, password: str, **extra: str) -> webtest.TestResponse:
    page = app.get("/account/login")
    fields = {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password}
    return app.post("/account/login", {**fields, **extra}, expect_errors=True)


def browser(
    provider: Provider, user: Account, agent: str = FIREFOX, address: str = "192.0.2.10"
) -> webtest.TestApp:
    """A browser signed in to the account pages as ``user``, from ``address``."""
    app = new_app(provider)
    app.extra_environ.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    response = sign_in(app, user.email, user.password)
    assert response.status_int == 303, response.text[:500]
    return app


def csrf(app: webtest.TestApp, path: str = "/account/") -> str:
    return hidden(app.get(path), "csrf_token")


def post(
    app: webtest.TestApp, path: str, fields: dict[str, str] | None = None, token: str | None = ""
) -> webtest.TestResponse:
    """POST with this session's CSRF token ("" fetches it, None leaves it out)."""
    data = dict(fields or {})
    if token == "":
        token = csrf(app)
    if token is not None:
        data["csrf_token"] = token
    form = "application/x-www-form-urlencoded"
    return app.post(path, data, content_type=form, expect_errors=True)


def revoke(app: webtest.TestApp, client_id: str, **kwargs: Any) -> webtest.TestResponse:
    return post(app, f"/account/apps/{client_id}/revoke", **kwargs)


def offline_rp(storage: Storage, name: str, host: str, **kwargs: Any) -> RP:
    return make_client(
        storage,
        name,
        [f"https://{host}/cb"],
        allowed_scopes=OFFLINE_SCOPES,
        grant_types=WITH_REFRESH,
        client_uri=f"https://{host}",
        **kwargs,
    )


def tokens(app: webtest.TestApp, rp: RP, user: Account) -> dict[str, Any]:
    flow = Flow(app, rp, user, scope=OFFLINE_SCOPES)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    assert "refresh_token" in response.json
    body: dict[str, Any] = response.json
    return body


def introspected(app: webtest.TestApp, rp: RP, token: str) -> bool:
    response = post_as(app, "/introspect", rp, {"token": token})
    assert response.status_int == 200, response.text
    return bool(response.json["active"])


def alive(app: webtest.TestApp, rp: RP, body: dict[str, Any]) -> dict[str, bool]:
    """Whether each of a token response's tokens still works (refreshing rotates it: the
    caller's refresh token is used up when it worked)."""
    return {
        "userinfo": userinfo_status(app, body["access_token"]) == 200,
        "introspect_access": introspected(app, rp, body["access_token"]),
        "introspect_refresh": introspected(app, rp, body["refresh_token"]),
        "refresh": refresh(app, rp, body["refresh_token"]).status_int == 200,
    }


def app_names(page: webtest.TestResponse) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", page.text)


def session_rows(page: webtest.TestResponse) -> list[str]:
    return re.findall(r"<tr(?: class=\"current\")?>\s*<td.*?</tr>", page.text, re.S)


def change_password(
    app: webtest.TestApp, current: str, new: str, again: str | None = None
) -> webtest.TestResponse:
    fields = {
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }
    return post(app, "/account/password", fields, token=csrf(app, "/account/profile"))


def provider_with(settings: Settings, storage: Storage, **changes: Any) -> webtest.TestApp:
    """A browser on a provider at the root with ``changes`` to the settings."""
    provider = Provider(dataclasses.replace(settings, issuer=ROOT, **changes), storage=storage)
    return webtest.TestApp(
        provider, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )
