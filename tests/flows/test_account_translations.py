"""The account pages (``/account/``) in the browser's language (docs/translations.md).

They follow ``Accept-Language`` like the other end-user pages, error pages included, and
are English without it; messages built in Python (validation errors, notices) are
translated too, with their values filled in after translation.
"""

from __future__ import annotations

import re

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import new_app
from tests.flows.test_translations import assert_accessible, language_of
from tests.support.account_pages import (
    FIREFOX,
    PHONE,
    app_names,
    change_password,
    csrf,
    post,
    revoke,
    session_rows,
    sign_in,
)
from tests.support.flow import RP, Account, Flow, hidden

# A date as the pages show it: the same in every language.
SHOWN_DATE = re.compile(
    r'<time datetime="[0-9TZ:-]+">[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC</time>'
)


def browser_in(
    language: str, provider: Provider, user: Account, agent: str = FIREFOX
) -> webtest.TestApp:
    """A browser asking for ``language``, signed in to the account pages as ``user``."""
    app = new_app(provider)
    app.extra_environ.update(
        HTTP_ACCEPT_LANGUAGE=language, HTTP_USER_AGENT=agent, REMOTE_ADDR="192.0.2.10"
    )
    assert sign_in(app, user.email, user.password).status_int == 303
    return app


def connected(app: webtest.TestApp, client: RP, user: Account, language: str) -> None:
    """``user`` authorizes ``client`` (with tokens) in ``app``, which then asks for ``language``."""
    flow = Flow(app, client, user, scope="openid email")
    assert flow.token(flow.authorize()["code"]).status_int == 200
    app.extra_environ["HTTP_ACCEPT_LANGUAGE"] = language


# -- sign-in --------------------------------------------------------------------------------


def test_the_account_sign_in_page_in_german(app: webtest.TestApp) -> None:
    page = app.get("/account/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert language_of(page) == "de"
    assert "<title>Anmelden · Ihr Konto</title>" in page.text
    assert "<h1>Ihr Konto</h1>" in page.text
    assert '<label for="email">E-Mail</label>' in page.text
    assert '<label for="password">Passwort</label>' in page.text
    assert ">Anmelden</button>" in page.text
    assert ">Password<" not in page.text


def test_a_wrong_account_sign_in_and_an_expired_form_are_explained_in_german(
    app: webtest.TestApp, alice: Account
) -> None:
    app.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    wrong = sign_in(app, alice.email, "not the password")
    assert wrong.status_int == 401 and language_of(wrong) == "de"
    assert (
        '<p class="error" role="alert">Die E-Mail-Adresse oder das Passwort ist nicht korrekt.</p>'
        in wrong.text
    )
    expired = app.post(
        "/account/login",
        {"csrf_token": "forged", "email": alice.email, "password": alice.password},
        expect_errors=True,
    )
    assert expired.status_int == 403 and language_of(expired) == "de"
    assert "Dieses Formular ist abgelaufen oder wurde in einem anderen Browser" in expired.text


# -- connected apps -------------------------------------------------------------------------


def test_connected_apps_in_german_with_dates_that_read_the_same_in_every_language(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    connected(app, client_a, alice, "de")
    page = app.get("/account/")
    assert language_of(page) == "de"
    assert "<title>Verbundene Apps · Ihr Konto</title>" in page.text
    assert "<h1>Verbundene Apps</h1>" in page.text
    assert app_names(page) == ["Client A"]
    assert '<p class="small">Sie darf:</p>' in page.text
    scopes = re.findall(r"<li>([^<]+)</li>", page.text)
    assert scopes == ["Sie anmelden und wissen, dass Sie es sind", "Ihre E-Mail-Adresse sehen"]
    assert "<dt>Erstmals autorisiert</dt>" in page.text
    assert "<dt>Zuletzt verwendet</dt>" in page.text
    assert len(SHOWN_DATE.findall(page.text)) == 2
    assert ">Zugriff entziehen</button>" in page.text
    assert 'aria-label="Zugriff für Client A entziehen"' in page.text
    for link in ("Sitzungen", "Profil"):
        assert f">{link}</a>" in page.text
    assert ">Abmelden</button>" in page.text
    assert 'title="Angemeldet als alice@example.com"' in page.text


def test_an_app_not_used_yet_says_never_in_the_users_language(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    assert "code" in Flow(app, client_a, alice).authorize()  # a consent, no token yet
    german = app.get("/account/", headers={"Accept-Language": "de"})
    assert "<dt>Zuletzt verwendet</dt><dd>nie</dd>" in german.text
    spanish = app.get("/account/", headers={"Accept-Language": "es"})
    assert "<dt>Último uso</dt><dd>nunca</dd>" in spanish.text
    assert "<dd>never</dd>" in app.get("/account/").text


def test_revoking_an_app_is_confirmed_in_german(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    connected(app, client_a, alice, "de")
    response = revoke(app, client_a.client_id)
    assert response.status_int == 303
    page = app.get(response.headers["Location"])
    assert language_of(page) == "de"
    assert '<p class="notice" role="status">Der Zugriff für Client A wurde entzogen.</p>' in (
        page.text
    )
    assert "Keine App hat Zugriff auf Ihr Konto." in page.text
    again = revoke(app, client_a.client_id)
    assert again.status_int == 404 and language_of(again) == "de"
    assert "Diese App hat keinen Zugriff auf Ihr Konto." in again.text


def test_the_account_pages_stay_english_for_an_english_browser(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    """The browser test's contract: Playwright sends ``en-US``; no header means English."""
    connected(app, client_a, alice, "en-US")
    page = app.get("/account/")
    assert language_of(page) == "en"
    assert ">Revoke access</button>" in page.text
    assert 'aria-label="Revoke access for Client A"' in page.text
    del app.extra_environ["HTTP_ACCEPT_LANGUAGE"]
    response = revoke(app, client_a.client_id)
    page = app.get(response.headers["Location"])
    assert language_of(page) == "en"
    assert '<p class="notice" role="status">Access for Client A was revoked.</p>' in page.text


# -- sessions -------------------------------------------------------------------------------


def test_sessions_in_german_name_browser_and_system_in_german(
    provider: Provider, alice: Account
) -> None:
    laptop = browser_in("de", provider, alice, FIREFOX)
    browser_in("de", provider, alice, PHONE)
    page = laptop.get("/account/sessions")
    assert language_of(page) == "de"
    assert "<h1>Sitzungen</h1>" in page.text
    rows = session_rows(page)
    current = [row for row in rows if "Dieser Browser" in row]
    assert len(rows) == 2 and len(current) == 1
    assert "Firefox unter Linux" in current[0]
    assert '<td data-label="IP-Adresse">192.0.2.10</td>' in current[0]
    other = next(row for row in rows if "Dieser Browser" not in row)
    assert re.search(
        r'aria-label="Sitzung von Safari unter iOS abmelden, angemeldet '
        r'[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC">Abmelden</button>',
        other,
    )
    assert ">Überall abmelden</button>" in page.text
    assert "Firefox on Linux" not in page.text


def test_signing_out_a_session_is_confirmed_in_german(provider: Provider, alice: Account) -> None:
    laptop = browser_in("de", provider, alice, FIREFOX)
    browser_in("de", provider, alice, PHONE)
    action = re.search(
        r'action="[^"]*(/account/sessions/[0-9]+/end)"', laptop.get("/account/sessions").text
    )
    assert action
    response = post(laptop, action.group(1), token=csrf(laptop, "/account/sessions"))
    assert response.status_int == 303
    assert "Die Sitzung wurde abgemeldet." in laptop.get(response.headers["Location"]).text
    gone = post(laptop, action.group(1), token=csrf(laptop, "/account/sessions"))
    assert gone.status_int == 404 and language_of(gone) == "de"
    assert "Diese Sitzung gibt es nicht, oder sie ist bereits beendet." in gone.text


# -- profile --------------------------------------------------------------------------------


def test_the_profile_in_german(provider: Provider, alice: Account) -> None:
    page = browser_in("de", provider, alice).get("/account/profile")
    assert language_of(page) == "de"
    for label in ("Vollständiger Name", "Vorname", "Nachname", "Benutzername", "E-Mail", "Sprache"):
        assert f">{label}</label>" in page.text
    assert '<h2 id="password-heading">Passwort ändern</h2>' in page.text
    assert '<p class="hint" id="new_password-hint">Mindestens 8 Zeichen.</p>' in page.text
    assert ">Profil speichern</button>" in page.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("locale", "english please", "Wählen Sie eine der angebotenen Sprachen."),
        ("name", "x" * 256, "Verwenden Sie höchstens 255 Zeichen."),
        ("locale", "de-" + "x" * 40, "Verwenden Sie höchstens 35 Zeichen."),
        ("preferred_username", "al\u0007ice", "Entfernen Sie die Steuerzeichen."),
    ],
)
def test_profile_errors_are_translated_with_their_values(
    provider: Provider, alice: Account, field: str, value: str, message: str
) -> None:
    app = browser_in("de", provider, alice)
    page = post(app, "/account/profile", {field: value}, token=csrf(app, "/account/profile"))
    assert page.status_int == 400 and language_of(page) == "de"
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in page.text


def test_saving_the_profile_is_confirmed_in_german(provider: Provider, alice: Account) -> None:
    app = browser_in("de", provider, alice)
    fields = {"given_name": "Alicia"}
    response = post(app, "/account/profile", fields, token=csrf(app, "/account/profile"))
    page = app.get(response.headers["Location"])
    assert '<p class="notice" role="status">Ihr Profil wurde gespeichert.</p>' in page.text
    assert '<option value="" selected>Sprache des Browsers</option>' not in page.text  # en-GB
    assert '<option value="de" lang="de">Deutsch</option>' in page.text


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        ("short", None, "Verwenden Sie mindestens 8 Zeichen."),
        (
            "a new long password",
            "another one",
            "Die beiden neuen Passwörter stimmen nicht überein.",
        ),
    ],
)
def test_password_errors_are_translated(
    provider: Provider, alice: Account, new: str, again: str | None, message: str
) -> None:
    app = browser_in("de", provider, alice)
    response = change_password(app, alice.password, new, again)
    assert response.status_int == 400 and language_of(response) == "de"
    assert message in response.text


def test_a_password_change_is_confirmed_in_french(provider: Provider, alice: Account) -> None:
    app = browser_in("fr", provider, alice)
    response = change_password(app, alice.password, "a new long password")
    assert response.status_int == 303
    page = app.get(response.headers["Location"])
    assert language_of(page) == "fr"
    assert "Votre mot de passe a été modifié. Les applications doivent vous demander" in page.text


# -- every page, every language -------------------------------------------------------------

HEADINGS = {
    "en": ("Your account", "Connected apps", "Sessions", "Profile"),
    "de": ("Ihr Konto", "Verbundene Apps", "Sitzungen", "Profil"),
    "fr": ("Votre compte", "Applications connectées", "Sessions", "Profil"),
    "es": ("Tu cuenta", "Aplicaciones conectadas", "Sesiones", "Perfil"),
}


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_every_account_page_is_in_the_language_and_labelled(
    provider: Provider, client_a: RP, alice: Account, language: str
) -> None:
    sign_in_heading, *headings = HEADINGS[language]
    anonymous = new_app(provider)
    login = anonymous.get("/account/login", headers={"Accept-Language": language})
    assert_accessible(login, language)
    assert f"<h1>{sign_in_heading}</h1>" in login.text
    app = new_app(provider)
    connected(app, client_a, alice, language)
    for path, heading in zip(
        ("/account/", "/account/sessions", "/account/profile"), headings, strict=True
    ):
        page = app.get(path)
        assert_accessible(page, language)
        assert f"<h1>{heading}</h1>" in page.text
    missing = app.get("/account/nowhere", status=404)
    assert_accessible(missing, language)


def test_account_error_pages_follow_accept_language(provider: Provider, alice: Account) -> None:
    app = browser_in("es", provider, alice)
    missing = app.get("/account/nowhere", status=404)
    assert language_of(missing) == "es" and "No hay nada en esta dirección." in missing.text
    method = app.get("/account/sessions/end-all", status=405)
    assert "Esta dirección no acepta este método." in method.text
    forged = app.post("/account/sessions/end-all", {"csrf_token": "forged"}, status=403)
    assert "Este formulario ha caducado o se abrió en otro navegador." in forged.text
    assert hidden(app.get("/account/"), "csrf_token")  # still signed in


def test_the_console_link_of_an_administrator_in_german(provider: Provider, alice: Account) -> None:
    provider.storage.users.set_admin(alice.email, True)
    page = browser_in("de", provider, alice).get("/account/")
    assert '/admin/">Administrationskonsole</a>' in page.text
