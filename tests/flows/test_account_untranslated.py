"""No account page shows English where the catalog has a translation (docs/account.md).

As for the console (``test_admin_console_untranslated.py``): each account page, signed in
and not, its forms with errors included, is rendered in English and in each other language;
a text run the reader sees unchanged in both is English left over, unless it is data the
test made or a message whose translation is the same word.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest

from oidc_core import Provider
from oidc_core.ui.locales import NAMES, SUPPORTED
from tests.conftest import new_app
from tests.core.test_catalogs import catalog
from tests.flows.test_translations import language_of
from tests.support.account_pages import post, sign_in
from tests.support.flow import RP, Account, Flow
from tests.support.page_text import untranslated, visible_text

LANGUAGES = [language for language in SUPPORTED if language != "en"]
Page = Callable[[webtest.TestApp], webtest.TestResponse]

SIGNED_IN: dict[str, Page] = {
    "connected apps": lambda app: app.get("/account/"),
    "sessions": lambda app: app.get("/account/sessions"),
    "profile": lambda app: app.get("/account/profile"),
    "profile, errors": lambda app: post(app, "/account/profile", {"locale": "pt", "name": "\x07"}),
    "password, errors": lambda app: post(
        app, "/account/password", {"current_password": "wrong", "new_password": "short"}
    ),
    "passkeys": lambda app: app.get("/account/passkeys"),
    "security": lambda app: app.get("/account/security"),
    "not found": lambda app: app.get("/account/nothing-here", expect_errors=True),
}
VISITOR: dict[str, Page] = {
    "sign-in": lambda app: app.get("/account/login"),
    "forgot password": lambda app: app.get("/account/forgot-password"),
    "reset without a token": lambda app: app.get("/account/reset-password", expect_errors=True),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_account_page_shows_english_where_a_translation_exists(
    provider: Provider, client_a: RP, alice: Account, language: str
) -> None:
    entries = catalog(language)
    # each language's name is in that language on every page (the profile's choice)
    data = {alice.email, "Client A", "Firefox", "Linux", "en-GB", *NAMES.values()}
    browser = new_app(provider)
    assert sign_in(browser, alice.email, alice.password).status_int == 303
    flow = Flow(browser, client_a, alice, scope="openid email")
    assert flow.token(flow.authorize()["code"]).status_int == 200
    pages = [(name, page, browser) for name, page in SIGNED_IN.items()]
    pages += [(name, page, new_app(provider)) for name, page in VISITOR.items()]
    for name, page, app in pages:
        app.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "en"
        english = page(app)
        app.extra_environ["HTTP_ACCEPT_LANGUAGE"] = language
        translated = page(app)
        assert english.status_int == translated.status_int, name
        assert language_of(english) == "en" and language_of(translated) == language, name
        left = untranslated(english.text, translated.text, entries, data)
        assert not left, f"{name} in {language}: {sorted(left)}"
        assert len(visible_text(translated.text)) >= 2, name  # a page with text to compare
