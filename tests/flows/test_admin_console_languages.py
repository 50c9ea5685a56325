"""The admin console in the browser's language, chosen as for the account pages
(docs/translations.md, docs/administration.md).

``Accept-Language`` decides, for the console's pages, its sign-in and its error pages;
without it (or with no supported language in it) the console is English.  Messages built
in Python (validation errors of the client and token forms, notices, status names) are
translated where the console shows them, while the JSON API keeps them in English.
"""

from __future__ import annotations

import html

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.interactions.login import GENERIC_FAILURE
from oidc_core.storage import Storage
from oidc_core.ui.translations import translations
from tests.conftest import make_user, new_app
from tests.flows.test_translations import language_of
from tests.support.account_pages import provider_with
from tests.support.admin_api import CLIENTS, METADATA, Api, error_of, new_token
from tests.support.admin_console import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    client_form,
    create,
    followed,
    post,
    sign_in,
)
from tests.support.admin_console import admin as admin

# Each page's heading, and the navigation, as a German, French and Spanish reader sees them.
HEADINGS = {
    "de": {
        "/admin/": "Clients",
        "/admin/clients/new": "Neuer Client",
        "/admin/users": "Benutzer",
        "/admin/registration-tokens": "Registrierungstokens",
        "/admin/audit": "Audit-Protokoll",
    },
    "fr": {
        "/admin/": "Clients",
        "/admin/clients/new": "Nouveau client",
        "/admin/users": "Utilisateurs",
        "/admin/registration-tokens": "Jetons d'enregistrement",
        "/admin/audit": "Journal d'audit",
    },
    "es": {
        "/admin/": "Clientes",
        "/admin/clients/new": "Nuevo cliente",
        "/admin/users": "Usuarios",
        "/admin/registration-tokens": "Tokens de registro",
        "/admin/audit": "Registro de auditoría",
    },
}
NAV_LABEL = {"de": "Verwaltung", "fr": "Administration", "es": "Administración"}
AREA = {
    "de": "Administrationskonsole",
    "fr": "Console d'administration",
    "es": "Consola de administración",
}


def text_of(page: webtest.TestResponse) -> str:
    return html.unescape(page.text)


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_each_console_page_has_its_heading_and_navigation_in_the_browser_language(
    admin: webtest.TestApp, language: str
) -> None:
    headings = HEADINGS[language]
    for path, heading in headings.items():
        page = admin.get(path, headers={"Accept-Language": f"{language}-XX, en;q=0.5"})
        assert language_of(page) == language
        text = text_of(page)
        assert f"<h1>{heading}</h1>" in text, path
        assert f'<nav aria-label="{NAV_LABEL[language]}">' in text
        for target, name in headings.items():  # every section's link, in this language
            link = "/admin/" if target == "/admin/" else target
            assert f'{link}"' in text and f">{name}</a>" in text
        assert f'">{AREA[language]}</a>' in text  # the area's name, linking home
        sign_out = translations(language).gettext("Sign out")
        assert f'<button type="submit" class="link">{sign_out}</button>' in text


def test_a_client_form_error_is_translated_on_the_console_and_english_in_the_api(
    provider: Provider, admin: webtest.TestApp
) -> None:
    uri = "http://app.example/cb"
    admin.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    one = post(admin, "/admin/clients/new", client_form(redirect_uris=uri))
    assert one.status_int == 400 and language_of(one) == "de"
    text = text_of(one)
    assert "Es wurde nichts gespeichert." in text
    assert "Korrigieren Sie dieses Feld und versuchen Sie es erneut:" in text  # one field
    assert f">Weiterleitungs-URIs</a>: '{uri}': http:// ist nur für Loopback-Hosts erlaubt" in text
    assert "loopback hosts" not in text
    two = post(admin, "/admin/clients/new", client_form(redirect_uris=uri, access_token_ttl="soon"))
    assert "Korrigieren Sie diese Felder und versuchen Sie es erneut:" in text_of(two)
    assert "muss eine ganze Zahl von Sekunden sein, oder leer für den Standardwert" in text_of(two)
    # The same rule through the management API: JSON for developers, in English.
    api = Api(new_app(provider), new_token(provider)[1])
    refused = api.call(
        "POST",
        CLIENTS,
        {**METADATA, "redirect_uris": [uri]},
        status=400,
        headers={"Accept-Language": "de"},
    )
    described = error_of(refused)["error_description"]
    assert f"'{uri}': http:// is allowed only for loopback hosts" in described
    assert "Loopback-Hosts" not in described


def test_the_token_form_notices_and_status_names_are_translated(
    provider: Provider, admin: webtest.TestApp
) -> None:
    admin.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "fr"
    refused = post(admin, "/admin/registration-tokens", [("name", "x"), ("expires_in", "soon")])
    assert refused.status_int == 400
    assert "doit être un nombre de secondes, ou de m, h ou d (par ex. 1d)" in text_of(refused)
    admin.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "es"
    client_id, _ = create(admin)
    deleted = followed(admin, post(admin, f"/admin/clients/{client_id}/delete", []))
    assert "Se ha eliminado el cliente, con todos sus tokens y consentimientos." in deleted.text
    subject = make_user(provider, "bob@example.com", "bob's long password").subject
    admin.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    changed = followed(
        admin, post(admin, f"/admin/users/{subject}/status", [("status", "suspended")])
    )
    assert "Der Status des Kontos wurde geändert." in text_of(changed)
    assert '<strong class="status">gesperrt</strong>' in changed.text
    assert ">Aktivieren</button>" in changed.text and ">Konto schließen</button>" in changed.text
    listed = admin.get("/admin/users?status=suspended")
    assert '<option value="suspended" selected>gesperrt</option>' in listed.text
    audit = admin.get("/admin/audit")
    assert ">Kontostatus geändert<" in audit.text  # the event "user.status", named in German
    assert ">user.status<" not in audit.text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.5", "fr"),
        ("xx, es;q=0.5", "es"),
        ("de;q=0, fr;q=0.1", "fr"),
        ("DE-ch", "de"),
        ("pt-BR, *", "en"),
        ("", "en"),
    ],
)
def test_the_console_and_the_account_pages_choose_the_same_language(
    provider: Provider, header: str, language: str
) -> None:
    """One choice for both areas: the browser's Accept-Language; the profile's language
    (this administrator's is German) is for letters, not for pages."""
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True, locale="de")
    browser = new_app(provider)
    if header:
        browser.extra_environ["HTTP_ACCEPT_LANGUAGE"] = header
    assert sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    for path in ("/admin/", "/admin/users", "/account/", "/account/profile"):
        assert language_of(browser.get(path)) == language, path
    for path in ("/admin/nothing-here", "/account/nothing-here"):
        assert language_of(browser.get(path, expect_errors=True)) == language, path


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_the_console_sign_in_speaks_the_browser_language(provider: Provider, language: str) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    browser = new_app(provider)
    browser.extra_environ["HTTP_ACCEPT_LANGUAGE"] = language
    catalog = translations(language)
    form = browser.get("/admin/login")
    assert language_of(form) == language
    assert catalog.gettext("Sign in with an administrator account.") in text_of(form)
    refused = sign_in(browser, ADMIN_EMAIL, "not the password")
    assert refused.status_int == 401 and language_of(refused) == language
    assert f'role="alert">{catalog.gettext(GENERIC_FAILURE)}</p>' in text_of(refused)


def test_the_console_sign_in_second_step_speaks_the_browser_language(
    settings: Settings, storage: Storage, provider: Provider
) -> None:
    """An administrator who must enrol a second factor does it in their language."""
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    for language in ("en", "es"):
        browser = provider_with(settings, storage, require_mfa_for_admins=True)
        browser.extra_environ["HTTP_ACCEPT_LANGUAGE"] = language
        step = sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert step.status_int == 200 and language_of(step) == language
        assert "/admin/login/second-factor" in step.text
        title = translations(language).gettext("Set up two-step verification")
        assert title in text_of(step)
