"""The end-user pages in the user's language (docs/translations.md) and usable by everyone.

``ui_locales`` of the authorization request decides on its login, consent and form_post
pages (OIDC Core 3.1.2.1), and of a sign-out request on its pages; otherwise the
browser's ``Accept-Language``; otherwise English.  ``<html lang>`` and ``Content-Language``
name the language used.
"""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import webtest

from oidc_core import Provider, routes
from oidc_core.interactions import complete
from tests.conftest import make_client, make_user, new_app
from tests.flows.test_faults import _broken_handler
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.login_consent import consent_page, login_page, post_form

SIGN_IN = {"en": "Sign in", "de": "Anmelden", "fr": "Se connecter", "es": "Iniciar sesión"}


def language_of(page: webtest.TestResponse) -> str:
    match = re.search(r'<html lang="([^"]+)">', page.text)
    assert match, page.text[:200]
    assert page.headers["Content-Language"] == match.group(1)
    return match.group(1)


def test_ui_locales_de_gives_a_german_login_page(flow: Flow) -> None:
    page = login_page(flow, ui_locales="de")
    assert language_of(page) == "de"
    assert "<h1>Anmelden</h1>" in page.text
    assert "<title>Anmelden, um mit Client A fortzufahren</title>" in page.text
    assert '<label for="email">E-Mail-Adresse</label>' in page.text
    assert '<label for="password">Passwort</label>' in page.text
    assert ">Password<" not in page.text


def test_ui_locales_de_gives_a_german_consent_page(flow: Flow) -> None:
    page = consent_page(flow, ui_locales="de", scope="openid profile email")
    assert language_of(page) == "de"
    assert "<strong>Client A</strong> möchte:" in page.text
    for description in (
        "Sie anmelden und wissen, dass Sie es sind",
        "Ihren Namen, Benutzernamen und Ihre Sprache sehen",
        "Ihre E-Mail-Adresse sehen",
    ):
        assert f"<li>{description}</li>" in page.text
    assert 'value="allow">Erlauben</button>' in page.text
    assert 'value="deny" class="secondary">Ablehnen</button>' in page.text
    assert "Angemeldet als <strong>alice@example.com</strong>." in page.text


@pytest.mark.parametrize(
    ("language", "signed_in_as", "not_you"),
    [
        ("de", "Angemeldet als", "Nicht Sie? Mit einem anderen Konto anmelden"),
        ("fr", "Connecté en tant que", "Ce n&#39;est pas vous ? Utiliser un autre compte"),
        ("es", "Has iniciado sesión como", "¿No eres tú? Usar otra cuenta"),
    ],
)
def test_the_consent_page_addresses_the_reader_in_one_register(
    flow: Flow, language: str, signed_in_as: str, not_you: str
) -> None:
    """German and French say "Sie" and "vous", Spanish "tú", as the login pages do."""
    page = consent_page(flow, ui_locales=language)
    assert language_of(page) == language
    assert f"{signed_in_as} <strong>alice@example.com</strong>." in page.text
    assert re.search(rf'<a href="[^"]+">{re.escape(not_you)}</a>', page.text), page.text


@pytest.mark.parametrize(
    ("ui_locales", "language"),
    [
        ("xx de", "de"),  # the first supported tag wins
        ("de-CH fr", "de"),  # a region falls back to its language
        ("fr-CA", "fr"),
        ("ES", "es"),  # tags are case-insensitive
        ("zh-Hant pt-BR es-MX de", "es"),
        ("xx yy-ZZ", "en"),  # nothing supported: English
        ("", "en"),
    ],
)
def test_the_first_supported_ui_locale_is_used(flow: Flow, ui_locales: str, language: str) -> None:
    page = login_page(flow, ui_locales=ui_locales)
    assert language_of(page) == language
    assert f"<h1>{SIGN_IN[language]}</h1>" in page.text


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        ("es-ES,es;q=0.9,en;q=0.5", "es"),
        ("en;q=0.2, fr;q=0.8", "fr"),  # by weight, not by position
        ("it, de-AT;q=0.7", "de"),
        ("de;q=0, fr;q=0.1", "fr"),  # q=0 means "not this one"
        ("*", "en"),
        ("nonsense;q=abc, ;;, de;q=2x", "en"),
    ],
)
def test_accept_language_is_used_without_ui_locales(
    flow: Flow, accept_language: str, language: str
) -> None:
    response = flow.start()
    page = flow.app.get(response.headers["Location"], headers={"Accept-Language": accept_language})
    assert language_of(page) == language


def test_ui_locales_wins_over_accept_language(flow: Flow) -> None:
    response = flow.start(ui_locales="fr")
    page = flow.app.get(response.headers["Location"], headers={"Accept-Language": "de"})
    assert language_of(page) == "fr"
    assert '<label for="password">Mot de passe</label>' in page.text


def test_a_failed_login_is_announced_in_the_language_and_linked_to_the_fields(flow: Flow) -> None:
    page = login_page(flow, ui_locales="es")
    response = flow.login(page, password="wrong password")
    assert response.status_int == 401
    assert language_of(response) == "es"
    assert (
        '<p class="error" id="login-error" role="alert">La dirección de correo electrónico o '
        "la contraseña no son correctas.</p>"
    ) in response.text
    for field in ("email", "password"):
        tag = re.search(rf'<input id="{field}"[^>]*>', response.text)
        assert tag, field
        assert 'aria-invalid="true" aria-describedby="login-error"' in tag.group(0)


def test_translated_text_with_values_still_escapes_them(
    app: webtest.TestApp, storage: Any, provider: Provider
) -> None:
    name = '<img src=x onerror=alert(1)> & "Co" %(user)s'
    rp = make_client(storage, name, ["https://rp.example/cb"])
    user = make_user(provider, "eve@example.com", "a long enough password")
    flow = Flow(app, rp, user)
    page = consent_page(flow, ui_locales="fr")
    escaped = "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;Co&#34; %(user)s"
    assert f"<title>Autoriser {escaped}</title>" in page.text
    assert f"<strong>{escaped}</strong> souhaite\u00a0:" in page.text
    assert "<img src=x" not in page.text
    login = login_page(Flow(new_app(provider), rp, user), ui_locales="de")
    assert f"um mit <strong>{escaped}</strong> fortzufahren" in login.text


def test_a_message_from_python_is_never_a_format_string_or_markup(flow: Flow) -> None:
    """Text built in Python (here with request data) is shown escaped, ``%`` and all."""
    response = flow.app.get(
        "/end_session?%25d<b>=1&%25d<b>=2", headers={"Accept-Language": "de"}, expect_errors=True
    )
    assert response.status_int == 400
    assert language_of(response) == "de"
    assert "<h1>Etwas ist schiefgelaufen</h1>" in response.text
    assert "parameter &#39;%d&lt;b&gt;&#39; is repeated" in response.text


def test_error_pages_follow_accept_language(app: webtest.TestApp) -> None:
    response = app.get("/no/such/page", headers={"Accept-Language": "fr"}, status=404)
    assert language_of(response) == "fr"
    assert "<h1>Introuvable</h1>" in response.text
    assert "Il n&#39;y a rien à cette adresse." in response.text


def test_an_authorization_request_error_page_uses_its_ui_locales(app: webtest.TestApp) -> None:
    response = app.get(
        "/authorize?client_id=unknown&ui_locales=de",
        headers={"Accept-Language": "fr"},
        status=400,
    )
    assert language_of(response) == "de"
    assert "Die Anwendung, die Sie hierher geschickt hat," in response.text
    assert "Fehlercode: <code>invalid_request</code>" in response.text


def test_an_expired_sign_in_request_is_explained_in_the_browsers_language(flow: Flow) -> None:
    page = consent_page(flow, ui_locales="de")
    flow.consent(page)
    again = flow.app.get(
        "/consent?interaction=" + hidden(page, "interaction"),
        headers={"Accept-Language": "es"},
        expect_errors=True,
    )
    assert again.status_int == 400
    assert language_of(again) == "es"
    assert "Esta solicitud de inicio de sesión ha caducado" in again.text


def test_a_consent_form_error_uses_the_requests_ui_locales(flow: Flow) -> None:
    page = consent_page(flow, ui_locales="de")
    response = post_form(flow.app, "/consent", page, decision="maybe")
    assert response.status_int == 400
    assert language_of(response) == "de"
    assert "Wählen Sie „Erlauben“ oder „Ablehnen“." in response.text


def test_a_failure_while_consenting_is_shown_in_the_requests_ui_locales(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = consent_page(flow, ui_locales="de")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug after the request was loaded")

    monkeypatch.setattr(complete, "issue_code", broken)
    response = flow.app.post(
        "/consent",
        {
            "interaction": hidden(page, "interaction"),
            "csrf_token": hidden(page, "csrf_token"),
            "decision": "allow",
        },
        headers={"Accept-Language": "fr"},
        expect_errors=True,
    )
    assert response.status_int == 500
    assert language_of(response) == "de"
    assert "Bei uns ist ein unerwarteter Fehler aufgetreten." in response.text
    # the next request of the same thread chose no language: the browser's again
    assert (
        language_of(flow.app.get("/no/such/page", headers={"Accept-Language": "fr"}, status=404))
        == "fr"
    )


def test_the_admin_console_follows_accept_language_too(app: webtest.TestApp) -> None:
    """Its 404 for a stranger too (tests/flows/test_admin_console_languages.py: the rest)."""
    response = app.get("/admin/no-such-page", headers={"Accept-Language": "de"}, status=404)
    assert language_of(response) == "de"
    assert "Unter dieser Adresse gibt es nichts." in response.text
    english = app.get("/admin/no-such-page", status=404)
    assert language_of(english) == "en"
    assert "There is nothing at this address." in english.text


def test_form_post_page_in_the_requests_language(flow: Flow) -> None:
    page = consent_page(flow, ui_locales="es", response_mode="form_post")
    response = flow.consent(page)
    assert response.status_int == 200
    assert language_of(response) == "es"
    assert "<h1>Volviendo a la aplicación</h1>" in response.text
    assert '<button type="submit">Continuar</button>' in response.text


def test_sign_out_pages_use_ui_locales(flow: Flow) -> None:
    flow.authorize()
    page = flow.app.get("/end_session?ui_locales=fr-FR")
    assert language_of(page) == "fr"
    assert "Se déconnecter de " in page.text
    assert 'value="stay" class="secondary">Rester connecté</button>' in page.text
    response = flow.app.post(
        "/end_session",
        {"csrf_token": hidden(page, "csrf_token"), "decision": "stay", "ui_locales": "fr"},
    )
    assert language_of(response) == "fr"
    assert "<h1>Votre session reste ouverte</h1>" in response.text


# -- accessibility of every end-user page -----------------------------------------------


class PageStructure(HTMLParser):
    """What the accessibility checks need: lang, viewport, inputs, labels, buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.viewport = ""
        self.inputs: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.buttons: list[str] = []
        self._in_button = False
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        elif tag == "meta" and attributes.get("name") == "viewport":
            self.viewport = attributes.get("content") or ""
        elif tag == "input" and attributes.get("type") != "hidden":
            self.inputs.append(attributes)
        elif tag == "label" and attributes.get("for"):
            self.labels.add(attributes["for"] or "")
        elif tag == "button":
            self._in_button = True
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.buttons[-1] += data.strip()


def assert_accessible(page: webtest.TestResponse, language: str) -> None:
    structure = PageStructure()
    structure.feed(page.text)
    assert structure.lang == language
    assert structure.viewport == "width=device-width, initial-scale=1"
    for field in structure.inputs:
        assert field.get("id") in structure.labels, f"input without a label: {field}"
        described = field.get("aria-describedby")
        if described:
            assert described in structure.ids, f"aria-describedby points nowhere: {field}"
    assert all(structure.buttons), f"a button without text: {structure.buttons}"
    assert len(structure.ids) == len(set(structure.ids)), "duplicate ids"
    assert "style=" not in page.text  # all presentation in the checked stylesheet


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_every_end_user_page_is_labelled_and_declares_its_language(
    flow: Flow, provider: Provider, language: str
) -> None:
    login = login_page(flow, ui_locales=language)
    assert_accessible(login, language)
    failed = flow.login(login, password="wrong password")
    assert_accessible(failed, language)
    consent = consent_page(
        Flow(new_app(provider), flow.client, flow.user),
        ui_locales=language,
        response_mode="form_post",
    )
    assert_accessible(consent, language)
    form_post = consent.test_app.post(
        "/consent",
        {
            "interaction": hidden(consent, "interaction"),
            "csrf_token": hidden(consent, "csrf_token"),
            "decision": "allow",
        },
    )
    assert_accessible(form_post, language)
    confirm = consent.test_app.get(f"/end_session?ui_locales={language}")
    assert_accessible(confirm, language)
    error = flow.app.get("/nowhere", headers={"Accept-Language": language}, status=404)
    assert_accessible(error, language)


def test_english_without_any_preference(app: webtest.TestApp, client_a: RP, alice: Account) -> None:
    page = login_page(Flow(app, client_a, alice))
    assert language_of(page) == "en"
    assert '<label for="email">Email address</label>' in page.text


def test_discovery_advertises_the_page_languages(app: webtest.TestApp) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["ui_locales_supported"] == ["en", "de", "fr", "es"]


def test_a_failure_page_is_translated_and_keeps_its_correlation_id(
    app: webtest.TestApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = routes.Route("broken", _broken_handler, ("/broken",), html=True)
    monkeypatch.setitem(routes.BY_PATH, "/broken", broken)
    with caplog.at_level(logging.ERROR, logger="oidc_core.provider"):
        page = app.get("/broken", headers={"Accept-Language": "de"}, status=500)
    assert language_of(page) == "de"
    assert "Bei uns ist ein unerwarteter Fehler aufgetreten." in page.text
    correlation = re.search(r"Korrelations-ID ([0-9a-f]{16}) an\.", page.text)
    assert correlation and f"correlation id {correlation.group(1)}" in caplog.text
