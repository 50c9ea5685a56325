"""``oidc-core migrate`` and ``oidc-core purge``: the database's schema and its old rows.

``migrate`` creates or upgrades the schema only (``init`` does the same and also creates a
signing key); it refuses a database upgraded by a newer oidc-core.  ``purge`` deletes the
rows past their retention (:mod:`oidc_core.storage.purge`) in short batches; run it from
cron or a systemd timer.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from .settings import Settings
from .storage import SchemaTooNew, Storage

Opener = Callable[[Settings], Storage]

DEFAULT_GRACE = 86400


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    storage = Storage(settings.database_url)
    try:
        before, after = storage.upgrade()
    except SchemaTooNew as exc:
        raise SystemExit(f"refused: {exc}") from None
    finally:
        storage.close()
    if args.json:
        print(json.dumps({"before": before, "after": after}))
    elif before == after:
        print(f"schema: version {after}, the newest; nothing to do")
    else:
        print(f"schema: version {before} -> {after}")
    return 0


def _purge(args: argparse.Namespace, settings: Settings, storage: Storage) -> int:
    try:
        counts = storage.purge(
            grace=args.grace,
            failure_window=settings.login_failure_window,
            batch_size=args.batch_size,
            dry_run=args.dry_run,
        )
    finally:
        storage.close()
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "grace": args.grace, "tables": counts}))
        return 0
    verb = "would delete" if args.dry_run else "deleted"
    for table, count in counts.items():
        print(f"{table}: {verb} {count}")
    print(f"total: {verb} {sum(counts.values())}")
    return 0


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_commands(sub: Any, opener: Opener) -> None:
    """Register ``migrate`` and ``purge`` on the top-level subparsers."""
    migrate = sub.add_parser(
        "migrate", help="create or upgrade the schema (init without the signing key)"
    )
    migrate.add_argument("--json", action="store_true", help="machine-readable output")
    migrate.set_defaults(func=cmd_migrate)

    purge = sub.add_parser("purge", help="delete expired rows no longer needed, in batches")
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    purge.add_argument("--json", action="store_true", help="machine-readable output")
    purge.add_argument(
        "--grace",
        type=_non_negative,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help=f"keep rows this long past their retention (default {DEFAULT_GRACE})",
    )
    purge.add_argument(
        "--batch-size",
        type=_positive,
        default=1000,
        metavar="ROWS",
        help="rows deleted per transaction (default 1000)",
    )
    purge.set_defaults(func=lambda args, settings: _purge(args, settings, opener(settings)))
