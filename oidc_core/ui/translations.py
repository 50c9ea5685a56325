"""Message catalogs: ``locale/<lang>/LC_MESSAGES/messages.po``, compiled in memory.

The ``.po`` files are the only form shipped (no ``.mo`` binaries in the repository); each is
read and compiled once per process, the first time a page needs its language.  English is
the source language: its "catalog" is the messages themselves.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from . import locales

LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Mark English text that a page translates when it shows it (for the extractor)."""
    return message


class Message(NamedTuple):
    """English text with ``%(name)s`` placeholders and the values that fill them, built in
    Python and shown by a template as ``{{ _(message) }}``: the text is translated first,
    then filled (``Message(N_("Use at most %(count)s characters."), {"count": 255})``)."""

    text: str
    values: Mapping[str, Any]


def english(message: str | Message) -> str:
    """The English text of a message, its values filled in: what JSON answers, the command
    line and logs show (only pages translate)."""
    if isinstance(message, str):
        return message
    return message.text % dict(message.values)


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The translations of a supported ``language`` (English: the messages unchanged)."""
    if language == locales.DEFAULT or language not in locales.SUPPORTED:
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")
