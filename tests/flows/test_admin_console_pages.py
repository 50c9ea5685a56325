"""What the admin console's pages show: navigation, links, escaping, security headers,
grants and token formats, odd searches.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from tests.support.admin_console import admin as admin
from tests.support.admin_console import client_form, create, followed, post, stored
from tests.support.admin_console import mallory as mallory
from tests.support.console_pages import client_paths
from tests.support.flow import issuer_of


def test_a_404_in_the_console_keeps_its_navigation_for_an_administrator_only(
    admin: webtest.TestApp, app: webtest.TestApp
) -> None:
    issuer = issuer_of(admin)
    nav = [
        f'<a href="{issuer}/admin/">Clients</a>',
        f'<a href="{issuer}/admin/clients/new">New client</a>',
        f'<a href="{issuer}/admin/audit">Audit log</a>',
        f'<a class="area-link" href="{issuer}/account/">Your account</a>',
        f'action="{issuer}/admin/logout"',
    ]
    for path in ("/admin/nothing-here", "/admin/clients/nope", "/admin/clients/nope/secret"):
        page = admin.get(path, expect_errors=True)
        assert page.status_int == 404, path
        assert "<h1>Not found</h1>" in page.text and "Admin console" in page.text, path
        for link in nav:
            assert link in page.text, (path, link)
    wrong = post(admin, "/admin/audit", [])
    assert wrong.status_int == 405 and all(link in wrong.text for link in nav)
    stranger = app.get("/admin/nothing-here", expect_errors=True)
    assert stranger.status_int == 404 and "Not found" in stranger.text
    assert "/admin/" not in stranger.text and "Admin console" not in stranger.text


def test_the_console_links_to_the_administrators_account_pages(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    link = f'<a class="area-link" href="{issuer_of(admin)}/account/">Your account</a>'
    for path in client_paths(client_id):
        assert link in admin.get(path).text, path
    account = admin.get("/account/")  # the same browser session: signed in there too
    assert account.status_int == 200 and "Connected apps" in account.text
    assert f'href="{issuer_of(admin)}/admin/">Admin console</a>' in account.text


def test_a_logo_path_is_shown_resolved_against_the_issuer(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin, logo_uri="/modules/servers/cpanel/logo.png")
    assert stored(provider, client_id).logo_uri == "/modules/servers/cpanel/logo.png"
    page = admin.get(f"/admin/clients/{client_id}")
    # against the site's origin (the issuer's path is where the provider is mounted)
    assert 'src="https://op.example/modules/servers/cpanel/logo.png"' in page.text
    assert 'value="/modules/servers/cpanel/logo.png"' in page.text


def test_client_data_is_escaped(admin: webtest.TestApp) -> None:
    name = "<script>alert(1)</script>"
    client_id, _ = create(admin, client_name=name, description='"><img src=x onerror=alert(1)>')
    for path in (
        "/admin/",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/reset-secret",
        f"/admin/clients/{client_id}/delete",
    ):
        page = admin.get(path)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "<script" not in page.text and "<img src=x" not in page.text, path


def test_admin_pages_carry_the_security_headers(
    admin: webtest.TestApp, app: webtest.TestApp, mallory: webtest.TestApp
) -> None:
    client_id, _ = create(admin)
    responses = [
        app.get("/admin/login"),
        mallory.get("/admin/", expect_errors=True),
        admin.get("/admin/nothing-here", expect_errors=True),
        followed(admin, post(admin, "/admin/clients/new", client_form())),
        *(admin.get(path) for path in client_paths(client_id)),
    ]
    for response in responses:
        assert response.headers["X-Frame-Options"] == "DENY"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert "<script" not in response.text and "style=" not in response.text


def test_grants_are_set_in_the_console(admin: webtest.TestApp, provider: Provider) -> None:
    client_id, _ = create(admin)
    assert stored(provider, client_id).grant_types == ("authorization_code",)
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'name="grant_type" value="refresh_token">' in page.text  # offered, unticked

    grants = ["refresh_token", "client_credentials"]
    post(admin, f"/admin/clients/{client_id}", client_form(grant_type=grants))
    assert stored(provider, client_id).grant_types == (
        "authorization_code",
        "refresh_token",
        "client_credentials",
    )
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'value="client_credentials" checked>' in page.text

    post(admin, f"/admin/clients/{client_id}", client_form(grant_type=["refresh_token"]))
    assert stored(provider, client_id).grant_types == ("authorization_code", "refresh_token")


def test_a_public_client_cannot_use_client_credentials(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    form = client_form(public="1", grant_type=["client_credentials"])
    for path in ("/admin/clients/new", f"/admin/clients/{client_id}"):
        page = post(admin, path, form)
        assert page.status_int == 400, page.text[:300]
        assert "client_credentials needs a confidential client" in page.text
        assert 'href="#grant-refresh_token"' in page.text
    assert stored(provider, client_id) == before


def test_jwt_access_tokens_are_set_in_the_console(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    assert stored(provider, client_id).access_token_format == "opaque"
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'name="access_token_format" value="jwt" aria-describedby' in page.text  # unticked

    post(admin, f"/admin/clients/{client_id}", client_form(access_token_format="jwt"))
    assert stored(provider, client_id).access_token_format == "jwt"
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'value="jwt" checked' in page.text

    post(admin, f"/admin/clients/{client_id}", client_form())
    assert stored(provider, client_id).access_token_format == "opaque"


@pytest.mark.parametrize("query", ["a%00b", "%FF%FE", "%0A%0D"])
def test_a_search_with_control_characters_or_bad_bytes_lists_without_an_error(
    admin: webtest.TestApp, query: str
) -> None:
    create(admin, client_name="Billing")
    page = admin.get(f"/admin/?q={query}")
    assert page.status_int == 200
