"""``oidc-core client import FILE``: clients moved from another provider keep their ids and
secrets, so relying parties already configured keep working unchanged.

The whole file is checked first (:mod:`oidc_core.admin.client_import`); any error names the
entry and the field, and nothing is imported.  The output lists the imported client ids,
never a secret.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from .admin.client_import import FORMATS, InvalidImport, entries, format_of
from .admin.service import ClientAdmin
from .settings import Settings
from .storage import Storage
from .text import escaped

Opener = Callable[[Settings], Storage]


def _read(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8-sig", newline="") as file:
            return file.read()
    except UnicodeDecodeError:
        raise SystemExit(f"cannot import {escaped(path)}: not UTF-8 text") from None
    except OSError as exc:
        raise SystemExit(f"cannot read {escaped(path)}: {exc.strerror}") from None


def add_command(client: Any, actor: Callable[[], str], opener: Opener) -> None:
    """Register ``import`` on the ``client`` subparsers; ``actor`` names the audit actor."""
    parser = client.add_parser(
        "import", help="add clients with their existing ids and secrets (JSON or CSV export)"
    )
    parser.add_argument("file", help="the export; - for standard input (then give --format)")
    parser.add_argument(
        "--format", choices=list(FORMATS), help="default: from the file name's extension"
    )
    parser.add_argument("--dry-run", action="store_true", help="check the file, import nothing")
    parser.add_argument("--json", action="store_true")

    def do_import(args: argparse.Namespace, settings: Settings) -> int:
        try:
            if args.file == "-" and args.format is None:
                raise InvalidImport("standard input", "", "give --format json or csv")
            file_format = args.format or format_of(args.file)
            found = entries(_read(args.file), file_format)
            admin = ClientAdmin(opener(settings))
            clients = admin.checked_import(found)
            if not args.dry_run:
                admin.import_clients(clients, actor())
        except InvalidImport as exc:
            raise SystemExit(f"nothing imported: {escaped(str(exc))}") from None
        ids = [client.client_id for client in clients]
        warnings = [client.warning for client in clients if client.warning]
        if args.json:
            print(json.dumps({"imported": [] if args.dry_run else ids, "checked": ids,
                              "dry_run": args.dry_run, "warnings": warnings}))  # fmt: skip
            return 0
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        verb = "would import" if args.dry_run else "imported"
        print(f"{verb} {len(ids)} client{'s' if len(ids) != 1 else ''}:")
        for client_id in ids:
            print(f"  {client_id}")
        return 0

    parser.set_defaults(func=do_import)
