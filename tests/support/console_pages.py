"""The admin console's pages and paths for its tests: the session key, every path of a
client and every path that posts, counts, and the check that a client is unchanged.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

import webtest

from oidc_core import Provider
from oidc_core.records import Client
from tests.support.admin_console import stored

COOKIE = "oidc_session"
NOTE = "Copy it now: it is shown only this once and cannot be retrieved later."


def count(provider: Provider, table: str) -> int:
    sql = f"SELECT COUNT(*) FROM {table}"
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


def session_key(response: webtest.TestResponse) -> str:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie"):
        cookie.load(header)
    return cookie[COOKIE].value


def client_paths(client_id: str) -> list[str]:
    return [
        "/admin/",
        "/admin/clients/new",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/reset-secret",
        f"/admin/clients/{client_id}/delete",
        "/admin/audit",
        "/admin/registration-tokens",
    ]


def post_paths(client_id: str) -> list[str]:
    return [
        "/admin/clients/new",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/reset-secret",
        f"/admin/clients/{client_id}/delete",
        "/admin/registration-tokens",
        "/admin/registration-tokens/1/revoke",
    ]


def assert_unchanged(provider: Provider, before: Client) -> None:
    assert stored(provider, before.client_id) == before
    assert count(provider, "oidc_client") == 1
