"""The bundled pages: Jinja2 templates with autoescaping, rendered to strings."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

_environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# English until translations are installed: ``{{ _("text") }}`` and ``{% trans %}`` work.
_environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def render(template: str, **context: Any) -> str:
    return _environment.get_template(template).render(**context)


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
