"""``oidc-core keys list|rotate|retire-expired``: the signing keys and their rotation.

``rotate`` runs one rotation step per algorithm (:mod:`oidc_core.keys`): it promotes the
next key once every process has had time to publish it (``key_cache_seconds``; ``--force``
skips the wait), retires the current key and publishes a new next key.  ``retire-expired``
deletes the retired keys that can no longer have signed a live ID token.  ``--json`` prints
machine-readable output; private keys are never printed.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from . import jose, keys
from .settings import Settings
from .storage import Storage
from .storage.keys import RotationRefused

Opener = Callable[[Settings], Storage]


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


def cmd_list(args: argparse.Namespace, settings: Settings, storage: Storage) -> int:
    horizon = keys.retirement_horizon(storage, settings)
    now = time.time()
    shown = {r.kid for r in keys.published(storage.keys.all(), horizon, now)}
    rows = [
        {
            "kid": r.kid,
            "alg": r.alg,
            "state": r.state,
            "created_at": r.created_at,
            "activated_at": r.activated_at,
            "retired_at": r.retired_at,
            "published": r.kid in shown,
            "removable_at": r.retired_at + horizon if r.retired_at else None,
        }
        for r in storage.keys.all()
    ]
    text = "\n".join(f"{r['kid']}  {r['alg']}  {r['state']}" for r in rows) or "no keys"
    _out(args, rows, text)
    return 0


def cmd_rotate(args: argparse.Namespace, settings: Settings, storage: Storage) -> int:
    algs = [args.alg] if args.alg else sorted({r.alg for r in storage.keys.all()})
    algs = algs or [keys.DEFAULT_ALGORITHM]
    done, refused = [], []
    for alg in algs:
        try:
            step = keys.rotate(
                storage, alg, min_next_age=0 if args.force else settings.key_cache_seconds
            )
        except RotationRefused as exc:
            refused.append({"alg": alg, "reason": str(exc)})
            continue
        done.append({"alg": alg, **vars(step)})
    lines = [
        f"{d['alg']}: {d['promoted']} is now current, {d['retired'] or 'no key'} retired, "
        f"{d['published']} published as next"
        if d["promoted"]
        else f"{d['alg']}: published {d['published']}; it signs after the next rotation"
        for d in done
    ] + [f"{r['alg']}: not rotated: {r['reason']}" for r in refused]
    _out(args, {"rotated": done, "refused": refused}, "\n".join(lines))
    return 1 if refused else 0


def cmd_retire_expired(args: argparse.Namespace, settings: Settings, storage: Storage) -> int:
    horizon = keys.retirement_horizon(storage, settings)
    deleted = storage.keys.delete_retired(int(time.time()) - horizon)
    _out(
        args,
        {"deleted": deleted},
        f"deleted {len(deleted)} retired key(s)" + "".join(f"\n  {kid}" for kid in deleted),
    )
    return 0


def add_commands(sub: Any, opener: Opener) -> None:
    """Register ``keys ...`` on the top-level subparsers."""
    group = sub.add_parser("keys", help="manage signing keys").add_subparsers(
        dest="action", required=True
    )

    def command(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = group.add_parser(name, help=help)
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.set_defaults(func=lambda args, settings: func(args, settings, opener(settings)))
        return parser

    command("list", cmd_list, "list the signing keys and their states")
    rotate = command("rotate", cmd_rotate, "promote the next key, retire the current one")
    rotate.add_argument("--alg", choices=list(jose.SUPPORTED_ALGORITHMS))
    rotate.add_argument(
        "--force", action="store_true", help="do not wait key_cache_seconds for the next key"
    )
    command("retire-expired", cmd_retire_expired, "delete retired keys no token needs")
