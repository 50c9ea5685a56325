"""The translation catalogs cover every message the pages can show, the console's included.

Messages are extracted here exactly as ``make messages`` does (babel.cfg, the same
keywords), from the code as it is now: a new string without a translation in every
language fails with the list of what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from oidc_core.ui import locales
from oidc_core.ui.translations import LOCALE_DIR, catalog_path, translations

ROOT = Path(__file__).resolve().parents[2]
# As MESSAGE_KEYWORDS in the Makefile: these calls' first argument is shown on a page.
KEYWORDS = {**DEFAULT_KEYWORDS, "PageError": None, "error_page": None}
TRANSLATED = [language for language in locales.SUPPORTED if language != locales.DEFAULT]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def extracted_messages() -> dict[str, list[str]]:
    """Each message id the pages can show, with the files it comes from (a plural message
    by its singular, as the catalogs key it)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        text = message[0] if isinstance(message, tuple) else message
        if text:
            found.setdefault(text, []).append(filename)
    return found


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's text, or its singular and plural forms (``ngettext``)."""
    return text if isinstance(text, tuple) else (text,)


def catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def messages() -> dict[str, list[str]]:
    found = extracted_messages()
    assert len(found) > 40, "the extraction found too little: is babel.cfg right?"
    return found


def test_the_extraction_sees_templates_python_and_page_errors(
    messages: dict[str, list[str]],
) -> None:
    assert "Sign in" in messages  # a template
    assert "The email address or password is not correct." in messages  # N_() in Python
    assert "Choose Allow or Deny." in messages  # PageError(...)
    assert "Use GET or POST." in messages  # op.error_page(...)
    # the admin console: its templates, its Python and the validation messages it shows
    assert "oidc_core/ui/templates/admin_base.html" in messages["Registration tokens"]
    assert "oidc_core/admin/console_users.py" in messages["The account already had this status."]
    assert "oidc_core/registration.py" in messages["duplicate redirect URI"]
    assert "Correct this field and try again:" in messages  # ngettext, by its singular


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_translation(messages: dict[str, list[str]], language: str) -> None:
    entries = catalog(language)
    missing = []
    for message, files in sorted(messages.items()):
        entry = entries.get(message)
        if entry is None or entry.fuzzy or not all(_forms(entry.string)):
            missing.append(f"  {message!r} (from {', '.join(sorted(set(files)))})")
    assert not missing, (
        f"{len(missing)} message(s) without a {language} translation in "
        f"{catalog_path(language).relative_to(ROOT)} (run `make messages`, then translate):\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = [
        f"  {entry.id!r} -> {entry.string!r}"
        for entry in catalog(language)
        if entry.id
        and entry.string
        and any(
            sorted(PLACEHOLDER.findall(_forms(entry.id)[-1])) != sorted(PLACEHOLDER.findall(form))
            for form in _forms(entry.string)
            if form
        )
    ]
    assert not wrong, f"{language}: placeholders differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogs_load_and_translate(language: str) -> None:
    entries = catalog(language)
    assert str(entries.locale) == language
    assert translations(language).gettext("Sign in") == entries.get("Sign in").string


def test_only_the_supported_languages_have_catalogs_and_no_binaries_are_kept() -> None:
    catalogs = {path.parent.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES/*.po")}
    assert catalogs == set(TRANSLATED)
    assert not list(LOCALE_DIR.rglob("*.mo")), "catalogs are compiled in memory: no .mo files"


# One register per language: German and French address the reader formally ("Sie",
# "vous"), Spanish informally ("tú"), like the end-user pages and most consumer and
# control-panel UIs in Spanish.  Words of the other register (its pronouns, and for
# Spanish the "usted" imperatives the catalog once used) must not appear in any message.
OTHER_REGISTER = {
    "de": r"du|dich|dir|dein|deine|deinen|deinem|deiner|deines",
    "fr": r"tu|toi|ton|ta|tes|te|t['\u2019]\w+",
    # (not "vuelva" or "inicie" alone: "hasta que se vuelva a activar" is a subjunctive)
    "es": r"usted|ustedes|vuelva a (?:intentarlo|iniciar|empezar)|inicie sesión|introduzca"
    r"|elija|compruebe|pulse|indique|corrija|escanee|escriba|guarde|registre|cree|use"
    r"|busque|dé|cópielo|revóquelo|emita|restablézcalo|inténtelo|intente|le hemos"
    r"|le permite|ha iniciado sesión",
}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_language_keeps_one_register(language: str) -> None:
    assert language in OTHER_REGISTER, (
        f"{language}: add the words of the register it does not use to OTHER_REGISTER"
    )
    other = re.compile(rf"(?<!\w)(?:{OTHER_REGISTER[language]})(?!\w)", re.IGNORECASE)
    wrong = [
        f"  {entry.id!r} -> {form!r}"
        for entry in catalog(language)
        if entry.id
        for form in _forms(entry.string)
        if form and other.search(form)
    ]
    assert not wrong, f"{language}: addresses the reader in the other register:\n" + "\n".join(
        wrong
    )
