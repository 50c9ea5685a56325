"""The mail speaks the reader's language: the account's ``locale`` if the pages have it
(``en-GB``: English), else the language of the page that asked (Accept-Language); plain
text and HTML alike."""

from __future__ import annotations

import pytest

from oidc_core import Settings
from oidc_core.account.links import send_verification
from oidc_core.storage import Storage
from tests.conftest import make_user
from tests.support.account_links import ask_reset, mail_app, provider_of
from tests.support.smtp import Mailbox, html_of, text_of

pytestmark = pytest.mark.mounts("one")

SUBJECTS = {
    "en": "Reset your password",
    "de": "Passwort zurücksetzen",
    "es": "Restablece tu contraseña",
    "fr": "Réinitialisez votre mot de passe",
}
FIRST_LINES = {
    "en": "Choose a new password within 30 minutes:",
    "de": "Wählen Sie innerhalb von 30 Minuten ein neues Passwort:",
    "es": "Elige una contraseña nueva en los próximos 30 minutos:",
    "fr": "Choisissez un nouveau mot de passe dans les 30 minutes :",
}


@pytest.mark.parametrize("language", sorted(SUBJECTS))
def test_the_accounts_language_decides(
    settings: Settings, storage: Storage, mailbox: Mailbox, language: str
) -> None:
    app = mail_app(settings, storage, mailbox)
    make_user(provider_of(app), "reader@example.com", "a long password", locale=language)
    ask_reset(app, "reader@example.com", headers={"Accept-Language": "de, en;q=0.5"})
    [message] = mailbox.wait()
    assert message["Subject"] == SUBJECTS[language]
    assert message["Content-Language"] == language
    assert FIRST_LINES[language] in text_of(message)
    html = html_of(message)
    assert f'<html lang="{language}">' in html and FIRST_LINES[language] in html


@pytest.mark.parametrize("language", sorted(SUBJECTS))
def test_without_one_the_pages_language_decides(
    settings: Settings, storage: Storage, mailbox: Mailbox, language: str
) -> None:
    app = mail_app(settings, storage, mailbox)
    make_user(provider_of(app), "reader@example.com", "a long password", locale="ja")
    ask_reset(app, "reader@example.com", headers={"Accept-Language": f"{language}-XX, en;q=0.1"})
    [message] = mailbox.wait()
    assert message["Subject"] == SUBJECTS[language]


def test_markup_in_a_name_or_address_stays_text(
    settings: Settings, storage: Storage, mailbox: Mailbox
) -> None:
    """The HTML part escapes what the account holds; the text part shows it as it is."""
    app = mail_app(settings, storage, mailbox)
    user = storage.users.create("<b>x</b>@example.com", "x")
    send_verification(provider_of(app), user)
    [message] = mailbox.wait()
    assert "&lt;b&gt;x&lt;/b&gt;@example.com" in html_of(message)
    assert "<b>x</b>@example.com" not in html_of(message)
    assert "<b>x</b>@example.com" in text_of(message)
