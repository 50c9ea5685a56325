"""Choosing the language of a page (OpenID Connect Core 1.0 section 3.1.2.1, ``ui_locales``).

The request's ``ui_locales`` (space-separated BCP 47 tags, most preferred first) decides on
the pages of an authorization request; otherwise the browser's ``Accept-Language``
(RFC 9110 section 12.5.4); otherwise English.  A regional tag falls back to its language
(``de-CH`` -> ``de``).  Tags are matched case-insensitively; unknown ones are skipped.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webob import Request

DEFAULT = "en"
# English is the source language of every message; the others have catalogs in locale/.
SUPPORTED = ("en", "de", "fr", "es")
# Each language's name in itself, as a list of languages to choose from shows it.
NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}

_MAX_TAGS = 20  # a header or parameter longer than this gains nothing

# The language :func:`for_pages` chose for the request in hand (None: not chosen yet).
PAGE_LANGUAGE: ContextVar[str | None] = ContextVar("oidc_page_language", default=None)


def negotiate(ui_locales: str | None = None, accept_language: str | None = None) -> str:
    """The supported language to use: ``ui_locales`` first, then ``Accept-Language``."""
    for tag in (ui_locales or "").split()[:_MAX_TAGS]:
        language = supported(tag)
        if language:
            return language
    for tag in _by_preference(accept_language or ""):
        language = supported(tag)
        if language:
            return language
    return DEFAULT


def for_request(request: Request | None, ui_locales: str | None = None) -> str:
    """The language for a page answering ``request`` (its ``Accept-Language``)."""
    accept_language = request.headers.get("Accept-Language") if request is not None else None
    return negotiate(ui_locales, accept_language)


def for_pages(request: Request, ui_locales: str | None) -> str:
    """:func:`for_request`, kept for the rest of the request in :data:`PAGE_LANGUAGE`: an
    error page that its handling raises later (a form error, a 503) speaks the language
    the authorization or sign-out request asked for, not only the browser's."""
    language = for_request(request, ui_locales)
    PAGE_LANGUAGE.set(language)
    return language


def supported(tag: str) -> str | None:
    """The supported language for one BCP 47 tag (``de-CH`` -> ``de``), or None."""
    language = tag.strip().split("-")[0].split("_")[0].lower()
    return language if language in SUPPORTED else None


def _by_preference(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, highest q first (q=0 and ``*`` dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_TAGS]):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip()
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]
