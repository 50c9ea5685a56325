"""The text a reader sees on a page, for the tests that check it is translated.

:func:`visible_text` collects every text run and every attribute a reader meets
(``placeholder``, ``title``, ``aria-label``, ``alt``, ``data-label``), leaving out what is
data rather than text: code, preformatted values, times, form contents and the elements
that show names, IDs and audit details.  :func:`untranslated` compares a page rendered in
English with the same page in another language.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from babel.messages.catalog import Catalog

READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-label")
DATA_TAGS = {"code", "pre", "time", "textarea", "script", "style"}
DATA_CLASSES = {"detail", "id", "who", "client-name", "user-email", "uris", "target"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: set[str] = set()
        self._stack: list[bool] = []  # per open element: is it (inside) data?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        inside = bool(self._stack and self._stack[-1])
        classes = set((values.get("class") or "").split())
        data = inside or tag in DATA_TAGS or bool(classes & DATA_CLASSES)
        if not data:
            for name in READ_ATTRIBUTES:
                if values.get(name):
                    self._add(values[name] or "")
        if tag not in VOID:
            self._stack.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self._stack and self._stack[-1]):
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        # Words only: a run without letters, or one "word" that is an address, a URI or
        # an identifier (a dot, slash, @, colon or underscore in it), is not a message.
        if not re.search(r"[^\W\d_]", text):
            return
        if " " not in text and re.search(r"[./@:_]", text):
            return
        self.runs.add(text)


def visible_text(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    return parser.runs


def same_in_both(catalog: Catalog) -> list[re.Pattern[str]]:
    """The messages whose translation is the English text itself ("Name" in German); not
    those of placeholders and punctuation only ("%(field)s: %(message)s"), which would
    excuse any text."""
    patterns = []
    for entry in catalog:
        if entry.id and isinstance(entry.id, str) and entry.string == entry.id:
            parts = PLACEHOLDER.split(entry.id)[::2]
            if re.search(r"[^\W\d_]", "".join(parts)):
                patterns.append(re.compile(".+".join(re.escape(part) for part in parts)))
    return patterns


def untranslated(english: str, translated: str, catalog: Catalog, data: set[str]) -> set[str]:
    """Text runs of the English page that the translated page shows unchanged, other than
    ``data`` (names and addresses the test made) and messages the same in both languages."""
    alike = same_in_both(catalog)
    shared = visible_text(english) & visible_text(translated)
    return {
        run
        for run in shared
        if run not in data and not any(pattern.fullmatch(run) for pattern in alike)
    }
