"""No console page shows English where the catalog has a translation (docs/translations.md).

Each page of the console (its sign-in, forbidden and error pages, every form with errors,
the one-time secret and token pages) is rendered in English and in each other language with
the same data; a text run the reader sees unchanged in both is English left over, unless it
is data the test made (names, addresses) or a message whose translation is the same word
("Name" in German).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest

from oidc_core import Provider
from oidc_core.ui.locales import SUPPORTED
from tests.conftest import make_user, new_app
from tests.core.test_catalogs import catalog
from tests.flows.test_translations import language_of
from tests.support.admin_console import (
    ADMIN_EMAIL,
    CB,
    client_form,
    create,
    followed,
    post,
    sign_in,
)
from tests.support.admin_console import admin as admin
from tests.support.page_text import untranslated, visible_text

LANGUAGES = [language for language in SUPPORTED if language != "en"]
CLIENT = "Control panel"
TOKEN = "cpanel-07"
# What the test itself puts on the pages: the same in every language.
DATA = {
    CLIENT,
    "The hosting control panel",
    TOKEN,
    ADMIN_EMAIL,
    "mallory@example.com",
    "nothing-matches",
}

Page = Callable[[webtest.TestApp], webtest.TestResponse]


def speaking(app: webtest.TestApp, language: str) -> webtest.TestApp:
    app.extra_environ["HTTP_ACCEPT_LANGUAGE"] = language
    return app


def issue_token(app: webtest.TestApp) -> webtest.TestResponse:
    fields = [("name", TOKEN), ("expires_in", "1d"), ("uses_allowed", "2"), ("scope", "openid")]
    return followed(app, post(app, "/admin/registration-tokens", fields))


def new_client_page(app: webtest.TestApp) -> webtest.TestResponse:
    """The page right after creating a client: its secret, shown once."""
    response = post(app, "/admin/clients/new", client_form(client_name=CLIENT))
    return followed(app, response)


def console_pages(client_id: str, subject: str) -> dict[str, Page]:
    client = f"/admin/clients/{client_id}"
    bad_client = client_form(
        client_name="",
        redirect_uris="http://app.example/cb#here",
        access_token_ttl="soon",
        scope=["profile"],
    )
    return {
        "clients": lambda app: app.get("/admin/"),
        "search without match": lambda app: app.get("/admin/?q=nothing-matches"),
        "new client": lambda app: app.get("/admin/clients/new"),
        "new client, errors": lambda app: post(app, "/admin/clients/new", bad_client),
        "client created": new_client_page,
        "client": lambda app: app.get(client),
        "client, errors": lambda app: post(app, client, bad_client),
        "client saved": lambda app: app.get(client + "?notice=saved"),
        "secret gone": lambda app: app.get(client + "/secret"),
        "reset secret": lambda app: app.get(client + "/reset-secret"),
        "reset secret, error": lambda app: post(
            app, client + "/reset-secret", [("grace_seconds", "a week")]
        ),
        "delete": lambda app: app.get(client + "/delete"),
        "audit log": lambda app: app.get("/admin/audit"),
        "registration tokens": lambda app: app.get("/admin/registration-tokens"),
        "registration tokens, errors": lambda app: post(
            app,
            "/admin/registration-tokens",
            [("name", TOKEN), ("expires_in", "soon"), ("redirect_hosts", "https://x.example")],
        ),
        "token issued": issue_token,
        "token gone": lambda app: app.get("/admin/registration-tokens/issued"),
        "users": lambda app: app.get("/admin/users"),
        "users, filtered": lambda app: app.get("/admin/users?status=suspended&q=nobody"),
        "user": lambda app: app.get(f"/admin/users/{subject}?notice=changed"),
        "not found": lambda app: app.get("/admin/nothing-here", expect_errors=True),
    }


def both(
    provider: Provider, admin: webtest.TestApp, language: str, page: Page
) -> tuple[webtest.TestResponse, webtest.TestResponse]:
    english = page(speaking(admin, "en"))
    translated = page(speaking(admin, language))
    assert language_of(english) == "en"
    assert language_of(translated) == language
    return english, translated


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_console_page_shows_english_where_a_translation_exists(
    provider: Provider, admin: webtest.TestApp, language: str
) -> None:
    client_id, _ = create(admin, client_name=CLIENT)
    subject = make_user(provider, "mallory@example.com", "mallory's password").subject
    # the audit log names these events too
    assert (
        post(admin, f"/admin/users/{subject}/status", [("status", "suspended")]).status_int == 303
    )
    assert post(admin, f"/admin/clients/{client_id}/reset-secret", []).status_int == 303
    entries = catalog(language)
    for name, page in console_pages(client_id, subject).items():
        english, translated = both(provider, admin, language, page)
        assert english.status_int == translated.status_int, name
        left = untranslated(english.text, translated.text, entries, DATA)
        assert not left, f"{name} ({english.request.path}) in {language}: {sorted(left)}"
        assert len(visible_text(translated.text)) > 5, name  # the page has text to compare


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_forbidden_and_stranger_pages_are_translated(
    provider: Provider, language: str
) -> None:
    entries = catalog(language)
    make_user(provider, "mallory@example.com", "mallory's password")
    pages: list[Page] = [
        lambda app: app.get("/admin/login"),
        lambda app: sign_in(app, ADMIN_EMAIL, "wrong password"),
        lambda app: app.get("/admin/nothing-here", expect_errors=True),
    ]
    for page in pages:
        english = page(speaking(new_app(provider), "en"))
        translated = page(speaking(new_app(provider), language))
        assert language_of(translated) == language
        assert not untranslated(english.text, translated.text, entries, DATA)
    forbidden = []
    for wanted in ("en", language):
        mallory = speaking(new_app(provider), wanted)
        assert sign_in(mallory, "mallory@example.com", "mallory's password").status_int == 303
        forbidden.append(mallory.get("/admin/", expect_errors=True))
    assert [page.status_int for page in forbidden] == [403, 403]
    assert not untranslated(forbidden[0].text, forbidden[1].text, entries, DATA)


def test_english_is_what_a_browser_without_accept_language_gets(admin: webtest.TestApp) -> None:
    admin.extra_environ.pop("HTTP_ACCEPT_LANGUAGE", None)
    page = admin.get("/admin/")
    assert language_of(page) == "en"
    assert ">Registration tokens</a>" in page.text
    assert CB not in visible_text(page.text)  # addresses are data, not text
