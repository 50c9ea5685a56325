"""Helpers for the admin console's tests (docs/administration.md): signing in, CSRF
tokens, the client form, and the console's paths.
"""

from __future__ import annotations

import re

import pytest
import webtest

from oidc_core import Provider
from oidc_core.records import Client
from tests.conftest import make_user, new_app
from tests.support.flow import hidden, issuer_of

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "admin's long password"
CB = "https://app.example/cb"


def sign_in(app: webtest.TestApp, email: str, password: str) -> webtest.TestResponse:
    page = app.get("/admin/login")
    return app.post(
        "/admin/login",
        {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password},
        expect_errors=True,
    )


@pytest.fixture
def admin(provider: Provider) -> webtest.TestApp:
    """A browser signed in to the console as an administrator."""
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    browser = new_app(provider)
    response = sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert response.status_int == 303, response.text[:500]
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/"
    return browser


@pytest.fixture
def mallory(provider: Provider) -> webtest.TestApp:
    """A browser signed in as a user without the admin flag."""
    make_user(provider, "mallory@example.com", "mallory's password")
    browser = new_app(provider)
    assert sign_in(browser, "mallory@example.com", "mallory's password").status_int == 303
    return browser


def token_of(app: webtest.TestApp, path: str = "/admin/") -> str:
    return hidden(app.get(path), "csrf_token")


def client_form(**overrides: str | list[str] | None) -> list[tuple[str, str]]:
    """The client form as a browser submits it (checkboxes only when ticked)."""
    fields: dict[str, str | list[str] | None] = {
        "client_name": "Control panel",
        "description": "The hosting control panel",
        "client_uri": "https://app.example",
        "logo_uri": "https://app.example/logo.png",
        "redirect_uris": CB + "\r\n\r\nhttps://app.example/cb2?x=1\r\n",
        "scope": ["openid", "profile", "email"],
        "access_token_ttl": "",
        "id_token_ttl": "",
    }
    fields.update(overrides)
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        for item in [value] if isinstance(value, str) else value or []:
            pairs.append((key, item))
    return pairs


def post(
    app: webtest.TestApp, path: str, pairs: list[tuple[str, str]], csrf: str | None = ""
) -> webtest.TestResponse:
    """POST a form with this session's CSRF token ("" fetches it, None leaves it out)."""
    if csrf == "":
        csrf = token_of(app)
    if csrf is not None:
        pairs = [("csrf_token", csrf), *pairs]
    return app.post(path, pairs, expect_errors=True)


def followed(app: webtest.TestApp, response: webtest.TestResponse) -> webtest.TestResponse:
    """The page a console POST redirected to (POST-redirect-GET)."""
    assert response.status_int == 303, (response.status, response.text[:1000])
    return app.get(response.headers["Location"])


def create(app: webtest.TestApp, **overrides: str | list[str] | None) -> tuple[str, str]:
    """Create a client through the console; its client_id and secret from the page."""
    page = followed(app, post(app, "/admin/clients/new", client_form(**overrides)))
    assert page.status_int == 200, page.text[:1000]
    client_id = re.search(r'<code class="id">([^<]+)</code>', page.text)
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    assert client_id, page.text
    return client_id.group(1), secret.group(1) if secret else ""


def stored(provider: Provider, client_id: str) -> Client:
    return provider.clients.get(client_id)
