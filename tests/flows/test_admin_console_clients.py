"""Creating, listing and editing clients in the admin console."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
import webtest

from oidc_core import Provider
from tests.support.admin_console import ADMIN_EMAIL, CB, client_form, create, followed, post, stored
from tests.support.admin_console import admin as admin
from tests.support.console_pages import NOTE, assert_unchanged, count

# -- creating and listing -------------------------------------------------------------------


def test_create_shows_the_secret_once_and_stores_only_its_digest(
    admin: webtest.TestApp, provider: Provider
) -> None:
    page = followed(admin, post(admin, "/admin/clients/new", client_form()))
    assert page.status_int == 200
    assert NOTE in page.text
    client_id, secret = create(admin, client_name="Second")
    assert len(secret) >= 43
    client = stored(provider, client_id)
    assert client.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert client.name == "Second"
    assert client.redirect_uris == (CB, "https://app.example/cb2?x=1")
    for path in ("/admin/", f"/admin/clients/{client_id}", "/admin/audit"):
        assert secret not in admin.get(path).text


def test_the_new_client_form_is_labelled(admin: webtest.TestApp) -> None:
    page = admin.get("/admin/clients/new")
    assert page.status_int == 200
    for name in ("client_name", "description", "client_uri", "logo_uri", "redirect_uris"):
        assert f'<label for="{name}"' in page.text and f'id="{name}"' in page.text
    for name in ("access_token_ttl", "id_token_ttl"):
        assert f'<label for="{name}"' in page.text
    # the hint names the provider's default lifetime that an empty field means
    assert html.unescape(page.text).count("the provider's default (3600)") == 2
    for checkbox in ("public", "require_pkce", "skip_consent", "scope-openid", "scope-email"):
        assert f'<label class="check" for="{checkbox}"><input type="checkbox" id="{checkbox}"' in (
            page.text
        )


def test_list_shows_name_id_and_redirect_uris_and_never_a_secret(
    admin: webtest.TestApp, provider: Provider
) -> None:
    first, first_secret = create(admin, client_name="Billing")
    second, second_secret = create(
        admin, client_name="Webmail", redirect_uris="https://mail.example/oidc"
    )
    page = admin.get("/admin/")
    for text in ("Billing", first, CB, "Webmail", second, "https://mail.example/oidc"):
        assert text in page.text
    assert first_secret not in page.text and second_secret not in page.text
    assert "never" in page.text  # last used
    # A random client ID (22 letters and digits) may hold any short string, but not a space
    # nor, in practice, seven given letters: these queries can only match names.
    found = admin.get("/admin/?q=webmail")
    assert second in found.text and first not in found.text
    assert "No client matches" in admin.get("/admin/?q=no+such+client").text


# -- editing ----------------------------------------------------------------------------------


def test_edit_saves_every_field_and_policy(admin: webtest.TestApp, provider: Provider) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    form = client_form(
        client_name="Renamed",
        description="New words",
        client_uri="https://new.example",
        logo_uri="https://new.example/l.png",
        redirect_uris="https://new.example/a\nhttps://new.example/b",
        scope=["openid", "email"],
        require_pkce="1",
        skip_consent="1",
        access_token_ttl="600",
        id_token_ttl="900",
    )
    page = followed(admin, post(admin, f"/admin/clients/{client_id}", form))
    assert page.status_int == 200
    assert "Changes saved." in page.text
    after = stored(provider, client_id)
    assert after.name == "Renamed"
    assert after.description == "New words"
    assert after.client_uri == "https://new.example"
    assert after.logo_uri == "https://new.example/l.png"
    assert after.redirect_uris == ("https://new.example/a", "https://new.example/b")
    assert after.allowed_scopes == frozenset({"openid", "email"})
    assert after.require_pkce and after.skip_consent and not after.is_public
    assert (after.access_token_ttl, after.id_token_ttl) == (600, 900)
    assert after.secret_digest == before.secret_digest
    # ... and back: unticked boxes and empty lifetimes are saved too.
    post(admin, f"/admin/clients/{client_id}", client_form())
    again = stored(provider, client_id)
    assert not again.require_pkce and not again.skip_consent
    assert again.access_token_ttl is None and again.id_token_ttl is None
    assert again.allowed_scopes == frozenset({"openid", "profile", "email"})


def test_a_public_client_has_no_secret_and_requires_pkce(
    admin: webtest.TestApp, provider: Provider
) -> None:
    page = followed(admin, post(admin, "/admin/clients/new", client_form(public="1")))
    assert page.status_int == 200
    assert "public client" in page.text and 'class="secret"' not in page.text
    client_id = re.search(r'<code class="id">([^<]+)</code>', page.text)
    assert client_id
    client = stored(provider, client_id.group(1))
    assert client.is_public and client.require_pkce and client.secret_digest == ""
    # The reset page has nothing to reset.
    reset = post(admin, f"/admin/clients/{client.client_id}/reset-secret", [("grace_seconds", "0")])
    assert reset.status_int == 400
    assert stored(provider, client.client_id) == client
    # A public client has no secret digest at all: remove it before the invariants run.
    assert post(admin, f"/admin/clients/{client.client_id}/delete", []).status_int == 303


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("redirect_uris", "http://evil.example/cb", "only for loopback hosts"),
        ("redirect_uris", "javascript:alert(1)", "must be an absolute https:// URI"),
        ("redirect_uris", "https://app.example/cb#frag", "must not contain a fragment"),
        ("redirect_uris", "\n \n", "at least one redirect URI is required"),
        ("client_name", "   ", "must be 1 to 255 characters"),
        ("client_uri", "javascript:alert(1)", "must be an absolute https:// URI"),
        ("logo_uri", "javascript:alert(1)", "must be an absolute https:// URI"),
        ("access_token_ttl", "ten minutes", "must be a whole number of seconds"),
        ("id_token_ttl", "5", "must be between 60 and 86400 seconds"),
        ("scope", ["profile"], "must include openid"),
    ],
)
def test_invalid_input_is_400_with_the_field_error_and_saves_nothing(
    admin: webtest.TestApp, provider: Provider, field: str, value: str | list[str], message: str
) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    audit_rows = count(provider, "oidc_audit_log")
    for path in ("/admin/clients/new", f"/admin/clients/{client_id}"):
        page = post(admin, path, client_form(**{field: value, "description": "typed text"}))
        assert page.status_int == 400, (path, page.text[:300])
        assert f'id="{field}-error"' in page.text
        assert message in page.text
        assert "Nothing was saved." in page.text
        assert "typed text" in page.text  # what was entered is kept
        if isinstance(value, str) and value.strip():
            assert f'value="{value}"' in page.text or f">{value}</textarea>" in page.text
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == audit_rows


def test_every_invalid_field_is_reported_at_once(admin: webtest.TestApp) -> None:
    page = post(
        admin,
        "/admin/clients/new",
        client_form(redirect_uris="http://evil.example/cb", access_token_ttl="soon", scope=[]),
    )
    assert page.status_int == 400
    for field in ("redirect_uris", "access_token_ttl", "scope"):
        assert f'id="{field}-error"' in page.text
        assert f'href="#{"scope-openid" if field == "scope" else field}"' in page.text
    assert 'id="client_name-error"' not in page.text


def test_an_update_records_only_the_changed_fields(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    rows = count(provider, "oidc_audit_log")
    page = followed(admin, post(admin, f"/admin/clients/{client_id}", client_form()))
    assert "Nothing to save" in page.text
    assert count(provider, "oidc_audit_log") == rows
    post(
        admin, f"/admin/clients/{client_id}", client_form(client_name="New name", skip_consent="1")
    )
    entry = provider.clients.audit_log(limit=1)[0]
    assert (entry.action, entry.actor, entry.target) == ("client.update", ADMIN_EMAIL, client_id)
    assert entry.details == {"fields": ["client_name", "skip_consent"], "client_name": "New name"}


def test_an_unknown_client_is_404(admin: webtest.TestApp) -> None:
    for path in ("/admin/clients/nope", "/admin/clients/nope/reset-secret"):
        assert admin.get(path, expect_errors=True).status_int == 404
    assert post(admin, "/admin/clients/nope/delete", []).status_int == 404
    assert admin.get("/admin/nothing-here", expect_errors=True).status_int == 404
    assert post(admin, "/admin/audit", []).status_int == 405
