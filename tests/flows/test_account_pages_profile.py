"""Profile editing on the account pages: the claims apps receive, invalid values, the
language, the link to the console.
"""

from __future__ import annotations

import re

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import new_app
from tests.support.account_pages import browser, csrf, post, provider_with, sign_in
from tests.support.flow import RP, Account, Flow, issuer_of

# -- profile --------------------------------------------------------------------------------


def test_the_profile_shows_the_claims_we_release(provider: Provider, alice: Account) -> None:
    page = browser(provider, alice).get("/account/profile")
    for value in ("Alice Liddell", "Liddell", "alice@example.com"):
        assert f'value="{value}"' in page.text
    assert '<option value="en-GB" lang="en-GB" selected>en-GB</option>' in page.text
    assert '<input id="email" type="text" value="alice@example.com" readonly>' in page.text
    assert 'name="new_password_again"' in page.text


def test_editing_the_profile_changes_what_apps_receive(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice)
    access = flow.token(flow.authorize()["code"]).json["access_token"]
    fields = {"name": "Alice Pleasance Liddell", "locale": "fr", "email": "x@evil.example"}
    response = post(app, "/account/profile", fields, token=csrf(app, "/account/profile"))
    assert response.status_int == 303
    location = response.headers["Location"]
    assert location == issuer_of(app) + "/account/profile?notice=saved"
    for _ in range(2):  # a reload shows the saved values and posts nothing
        page = app.get(location)
        assert "Your profile was saved." in page.text
        assert 'value="Alice Pleasance Liddell"' in page.text
        assert '<option value="fr" lang="fr" selected>Français</option>' in page.text
    info = app.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).json
    assert info["name"] == "Alice Pleasance Liddell" and info["locale"] == "fr"
    assert info["email"] == "alice@example.com" and info["given_name"] == "Alice"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("locale", "english please", "Choose one of the languages offered."),
        ("locale", "fr-CA", "Choose one of the languages offered."),
        ("locale", "pt", "Choose one of the languages offered."),
        ("name", "x" * 256, "Use at most 255 characters."),
        ("preferred_username", "al\u0007ice", "Remove the control characters."),
    ],
)
def test_an_invalid_profile_value_is_refused_and_nothing_is_saved(
    provider: Provider, alice: Account, field: str, value: str, message: str
) -> None:
    app = browser(provider, alice)
    fields = {"given_name": "Changed", field: value}
    page = post(app, "/account/profile", fields, token=csrf(app, "/account/profile"))
    assert page.status_int == 400
    assert message in page.text
    user = provider.storage.users.by_email(alice.email)
    assert user is not None and user.given_name == "Alice" and user.locale == "en-GB"


def test_the_language_is_one_of_the_pages_languages_or_the_browsers(
    provider: Provider, alice: Account
) -> None:
    """A list of the supported locales and "Browser default" (no ``locale`` claim); the
    tag the account has from before (alice's en-GB) is offered and kept until changed."""
    app = browser(provider, alice)
    page = app.get("/account/profile")
    select = re.search(r'<select id="locale" name="locale"[^>]*>(.*?)</select>', page.text, re.S)
    assert select, page.text
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    assert options == [
        ("", "Browser default"),
        ("en", "English"),
        ("de", "Deutsch"),
        ("fr", "Français"),
        ("es", "Español"),
        ("en-GB", "en-GB"),
    ]

    def save(locale: str) -> int:
        fields = {"given_name": "Alice", "locale": locale}
        status: int = post(app, "/account/profile", fields, token=csrf(app)).status_int
        return status

    def stored() -> str:
        user = provider.storage.users.by_email(alice.email)
        assert user is not None
        return user.locale

    assert save("en-GB") == 303 and stored() == "en-GB"  # kept as it was
    assert save("de") == 303 and stored() == "de"
    assert "en-GB" not in app.get("/account/profile").text
    for refused in ("en-GB", "pt-BR", "DE", "xx", "de\u0000"):
        assert save(refused) == 400 and stored() == "de", refused
    assert save("") == 303 and stored() == ""  # the browser's language
    page = app.get("/account/profile")
    assert '<option value="" selected>Browser default</option>' in page.text


def test_an_administrator_finds_the_console_from_the_account_pages_and_others_do_not(
    provider: Provider, alice: Account, bob: Account
) -> None:
    provider.storage.users.set_admin(alice.email, True, None)
    link = f'<a class="area-link" href="{issuer_of(new_app(provider))}/admin/">Admin console</a>'
    admin = browser(provider, alice)
    for path in ("/account/", "/account/sessions", "/account/profile"):
        assert link in admin.get(path).text, path
    user = browser(provider, bob)
    for path in ("/account/", "/account/sessions", "/account/profile"):
        page = user.get(path)
        assert "Admin console" not in page.text and "/admin/" not in page.text, path


# -- policies and records -------------------------------------------------------------------


def test_only_the_configured_claims_are_editable(
    settings: Settings, storage: Storage, alice: Account
) -> None:
    app = provider_with(settings, storage, profile_editable_claims=("locale",))
    assert sign_in(app, alice.email, alice.password).status_int == 303
    page = app.get("/account/profile")
    assert 'name="locale"' in page.text
    assert '<input id="name" type="text" value="Alice Liddell" readonly>' in page.text
    fields = {"locale": "de", "name": "Mallory"}
    assert post(app, "/account/profile", fields, token=csrf(app)).status_int == 303
    user = storage.users.by_email(alice.email)
    assert user is not None and (user.locale, user.name) == ("de", "Alice Liddell")
