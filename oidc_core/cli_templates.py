"""``oidc-core templates copy DIR``: the bundled templates written out as a starting point
for overrides (the ``templates_dir`` setting, ``docs/templates.md``).

Existing files are left alone unless ``--force``; nothing is written when one would be
overwritten.  The bundled stylesheet is not copied: a page's look changes through the
``brand_*`` settings or an override of ``base.html`` that links a stylesheet of its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .settings import Settings
from .ui.render import TEMPLATES_DIR


def add_commands(sub: Any) -> None:
    """Register ``templates copy`` on the top-level subparsers."""
    templates = sub.add_parser(
        "templates", help="the bundled page templates, for overrides"
    ).add_subparsers(dest="action", required=True)
    copy = templates.add_parser("copy", help="write the bundled templates to DIR")
    copy.add_argument("directory", metavar="DIR", help="where to write them (created if needed)")
    copy.add_argument("--force", action="store_true", help="overwrite files that exist")
    copy.set_defaults(func=do_copy)


def do_copy(args: argparse.Namespace, settings: Settings) -> int:
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise SystemExit(f"{target} is not a directory")
    sources = sorted(TEMPLATES_DIR.glob("*.*"))
    existing = [source.name for source in sources if (target / source.name).exists()]
    if existing and not args.force:
        raise SystemExit(
            f"{len(existing)} file(s) exist in {target} ({', '.join(existing[:5])}"
            f"{', ...' if len(existing) > 5 else ''}); nothing written. Use --force to overwrite"
        )
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        (target / source.name).write_bytes(source.read_bytes())
        print(f"wrote {target / source.name}")
    print(
        f"{len(sources)} templates. Keep only the ones you change, then set "
        f"OIDC_TEMPLATES_DIR={target.resolve()} (oidc.templates_dir)"
    )
    return 0
