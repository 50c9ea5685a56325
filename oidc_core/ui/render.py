"""The bundled pages: Jinja2 templates with autoescaping, rendered to strings.

One environment per language, each with ``_()`` / ``gettext`` / ``ngettext`` bound to that
language's catalog (``translations.py``), so templates, their includes and macros all see
the same language.  ``lang`` (for ``<html lang>``) is the language the page is rendered in.

With a ``templates_dir`` (the setting), a file there replaces the bundled template of the
same name wherever it is used (pages, includes, ``extends``); the bundled ones stay
reachable as ``bundled/<name>``, so an override can extend the page it replaces and change
one block (``docs/templates.md``).  Environments are kept per (directory, language).

``{{ _("text %(name)s", name=value) }}`` (or a ``{% trans %}`` block): the translation is
treated as text, not HTML, so it is escaped like any other value, and so are the values put
into it (unless they are already markup, such as a ``{% set %}`` block).  Text built in
Python goes through the same function (``{{ _(message) }}``): a message that is not in the
catalog is shown as it is, escaped, and never used as a format string.  Text from Python
with values is a :class:`~.translations.Message` (text and values apart), never text
formatted in Python: formatted text is no longer the message the catalog translates.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    TemplateSyntaxError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import escape

from ..settings_checks import ConfigurationError
from . import locales
from .translations import Message, translations

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
BUNDLED_PREFIX = "bundled"
TEMPLATE_SUFFIXES = (".html", ".txt")  # the bundled templates' (other files are not read)


def render(
    template: str, language: str = locales.DEFAULT, templates_dir: str = "", **context: Any
) -> str:
    """``template`` in ``language``, an override in ``templates_dir`` first if any."""
    return _environment(templates_dir, language).get_template(template).render(**context)


def check_overrides(templates_dir: str) -> None:
    """Compile every template in ``templates_dir`` (``.html``, ``.txt``) once, at start-up:
    ConfigurationError naming the file (and line) that Jinja2 cannot read, rather than a
    500 on every page that uses it.  A file changed later is read again at its next use."""
    if not templates_dir:
        return
    environment = _environment(templates_dir, locales.DEFAULT)
    for name in FileSystemLoader(templates_dir).list_templates():
        if not name.endswith(TEMPLATE_SUFFIXES) or name.startswith(BUNDLED_PREFIX + "/"):
            continue
        try:
            environment.get_template(name)
        except TemplateSyntaxError as exc:
            raise ConfigurationError(
                f"templates_dir: {name} line {exc.lineno}: {exc.message}"
            ) from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"templates_dir: {name} is not UTF-8 text") from None


def _loader(templates_dir: str) -> BaseLoader:
    """``bundled/<name>`` is always the bundled template (first: a ``bundled`` folder in
    the overrides cannot shadow it); any other name the override, else the bundled one."""
    bundled = FileSystemLoader(TEMPLATES_DIR)
    by_prefix = PrefixLoader({BUNDLED_PREFIX: bundled})
    if not templates_dir:
        return ChoiceLoader([by_prefix, bundled])
    return ChoiceLoader([by_prefix, FileSystemLoader(templates_dir), bundled])


@cache
def _environment(templates_dir: str, language: str) -> Environment:
    environment = Environment(
        loader=_loader(templates_dir),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    catalog = translations(language)

    @pass_context
    def gettext(context: Context, message: str | Message, /, **values: Any) -> str:
        if isinstance(message, Message):
            values = {**message.values, **values}
            text = message.text
        else:
            text = message
        return _fill(context, catalog.gettext(text), values)

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, number: int, /, **values: Any
    ) -> str:
        values.setdefault("num", number)
        return _fill(context, catalog.ngettext(singular, plural, number), values)

    # The i18n extension's own "newstyle" wrappers would trust the translated text as
    # markup (and format any message): install these instead, newstyle for {% trans %}.
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    environment.globals.update(gettext=gettext, ngettext=ngettext, lang=language)
    return environment


def _fill(context: Context, text: str, values: dict[str, Any]) -> str:
    """``text`` escaped (when autoescaping), then ``%(name)s`` filled with escaped values.

    Without values the text is not a format string (it may be a message from Python with
    request data in it); only ``%%``, which ``{% trans %}`` blocks write for ``%``, is undone.
    """
    if context.eval_ctx.autoescape:
        text = escape(text)
    return text % values if values else text.replace("%%", "%")


def static_file(name: str) -> bytes | None:
    """A bundled static file by bare name; None for anything else (no path traversal)."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = STATIC_DIR / name
    return path.read_bytes() if path.is_file() else None


def when(timestamp: int | None, empty: str = "never") -> str:
    """A timestamp as readable UTC text."""
    if not timestamp:
        return empty
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def iso(timestamp: int | None) -> str:
    """A timestamp for ``<time datetime=...>``."""
    if not timestamp:
        return ""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
