"""The console's "Registration tokens" page: initial access tokens issued (the value shown
once, stored as its digest, limits stored), listed without values, revoked; a form with
an error or without this session's CSRF token changes nothing.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support import snapshot
from tests.support.admin_console import ADMIN_EMAIL, ADMIN_PASSWORD, followed, post, sign_in
from tests.support.admin_console import admin as admin
from tests.support.console_pages import NOTE
from tests.support.flow import issuer_of

pytestmark = pytest.mark.mounts("one")

PAGE = "/admin/registration-tokens"


def form(**overrides: str | list[str]) -> list[tuple[str, str]]:
    fields: dict[str, str | list[str]] = {
        "name": "cpanel-07.example.net",
        "expires_in": "7d",
        "uses_allowed": "2",
        "scope": ["openid", "email"],
        "grant_type": ["authorization_code"],
        "redirect_hosts": "cpanel-07.example.net\r\n\r\n192.0.2.7\r\n",
    }
    fields.update(overrides)
    return [(k, item) for k, v in fields.items() for item in ([v] if isinstance(v, str) else v)]


def value_on(page: webtest.TestResponse) -> str:
    found = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    return found.group(1) if found else ""


@pytest.mark.mounts("every")
def test_issue_shows_the_value_once_and_stores_the_limits(
    admin: webtest.TestApp, provider: Provider
) -> None:
    listing = admin.get(PAGE)
    assert f'href="{issuer_of(admin)}{PAGE}" aria-current="page">Registration tokens</a>' in (
        listing.text
    )
    assert "No registration tokens issued yet." in listing.text

    response = post(admin, PAGE, form())
    assert response.headers["Location"] == f"{issuer_of(admin)}{PAGE}/issued"
    page = followed(admin, response)
    value = value_on(page)
    assert len(value) >= 32 and NOTE in page.text
    stored = provider.storage.initial_access_tokens.find(value)
    assert stored is not None
    assert stored.name == "cpanel-07.example.net" and stored.created_by == ADMIN_EMAIL
    assert (stored.uses_allowed, stored.uses) == (2, 0)
    assert 7 * 86400 - 60 <= stored.expires_at - stored.created_at <= 7 * 86400
    assert stored.allowed_scopes == frozenset({"openid", "email"})
    assert stored.allowed_grant_types == frozenset({"authorization_code"})
    assert stored.allowed_redirect_hosts == ("cpanel-07.example.net", "192.0.2.7")
    digest = provider.storage.database.execute_sql(
        "SELECT token_digest FROM oidc_initial_access_token"
    ).fetchall()
    assert list(digest) == [(hashlib.sha256(value.encode()).hexdigest(),)]  # MariaDB: a tuple

    again = admin.get(f"{PAGE}/issued")  # a reload: gone
    assert value_on(again) == "" and value not in again.text
    assert "cannot be shown again" in again.text
    listing = admin.get(PAGE)
    assert "cpanel-07.example.net" in listing.text and "0 of 2" in listing.text
    assert "scopes: email openid" in listing.text and value not in listing.text
    audit = admin.get("/admin/audit")
    assert "Issued registration token" in audit.text and value not in audit.text


def test_revoke_then_the_value_finds_nothing(admin: webtest.TestApp, provider: Provider) -> None:
    value = value_on(followed(admin, post(admin, PAGE, form())))
    token = provider.storage.initial_access_tokens.find(value)
    assert token is not None
    response = post(admin, f"{PAGE}/{token.id}/revoke", [])
    page = followed(admin, response)
    assert "The registration token was revoked" in page.text
    assert '<span class="badge">revoked</span>' in page.text
    assert f'action="{issuer_of(admin)}{PAGE}/{token.id}/revoke"' not in page.text
    assert provider.storage.initial_access_tokens.find(value) is None
    assert "Revoked registration token" in admin.get("/admin/audit").text

    before = snapshot.database(provider.storage)
    for token_id in [str(token.id), str(token.id + 1)]:  # already revoked, unknown
        assert post(admin, f"{PAGE}/{token_id}/revoke", []).status_int == 404
    assert snapshot.database(provider.storage) == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "must be 1 to 255 characters"),
        ({"name": "x\x1b[2J"}, "name", "must not contain control characters"),
        ({"expires_in": "soon"}, "expires_in", "must be a number of seconds"),
        ({"expires_in": "30"}, "expires_in", "must be between 60 and 31622400"),
        ({"expires_in": "367d"}, "expires_in", "must be between 60 and 31622400"),
        ({"uses_allowed": "0"}, "uses_allowed", "must be between 1 and 1000"),
        ({"uses_allowed": "two"}, "uses_allowed", "must be a whole number"),
        ({"scope": ["email"]}, "scopes", "must include openid"),
        ({"scope": ["openid", "admin"]}, "scopes", "unsupported scope"),
        ({"grant_type": ["implicit"]}, "grant_types", "unsupported grant type"),
        ({"redirect_hosts": "*.example.net"}, "redirect_hosts", "no wildcards"),
        ({"redirect_hosts": "https://a.example"}, "redirect_hosts", "without a scheme"),
        ({"redirect_hosts": "a.example:2083"}, "redirect_hosts", "without a port"),
    ],
)
def test_a_bad_field_is_shown_again_with_its_error_and_nothing_is_stored(
    admin: webtest.TestApp,
    provider: Provider,
    overrides: dict[str, str | list[str]],
    field: str,
    message: str,
) -> None:
    before = snapshot.database(provider.storage)
    page = post(admin, PAGE, form(**overrides))
    assert page.status_int == 400
    assert f'<p class="field-error" id="{field}-error">' in page.text
    assert message in page.text
    assert 'aria-invalid="true"' in page.text or field in ("scopes", "grant_types")
    assert snapshot.database(provider.storage) == before


def test_posts_without_the_sessions_csrf_token_are_403_and_change_nothing(
    admin: webtest.TestApp, provider: Provider
) -> None:
    value = value_on(followed(admin, post(admin, PAGE, form(name="existing"))))
    token = provider.storage.initial_access_tokens.find(value)
    assert token is not None
    other = new_app(provider)
    assert sign_in(other, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    foreign = other.get(PAGE).forms[0]["csrf_token"].value  # valid, but another session's
    before = snapshot.database(provider.storage)
    for csrf in (None, "", "x" * 64, foreign):
        for path, fields in [(PAGE, form()), (f"{PAGE}/{token.id}/revoke", [("go", "1")])]:
            extra = [("csrf_token", csrf)] if csrf is not None else []
            response = admin.post(path, [*fields, *extra], expect_errors=True)
            assert response.status_int == 403, (path, csrf)
    assert snapshot.database(provider.storage) == before
    assert provider.storage.initial_access_tokens.find(value) is not None
