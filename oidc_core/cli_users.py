"""``oidc-core user suspend|activate|close|status ACCOUNT``: an account's status.

ACCOUNT is the user's email address or ``sub``.  A change does what the management API
and the console do (:func:`oidc_core.account_status.change_status`): sessions end (their
back-channel logout tokens are queued; the servers' senders send them within a minute),
and closing revokes every token.  ``status`` prints the status without changing it.
"""

from __future__ import annotations

import argparse
import datetime
import json
from collections.abc import Callable
from typing import Any

from . import account_status
from .admin import users
from .cli_admin import _actor
from .provider import Provider
from .records import User
from .settings import Settings
from .storage import Storage

Opener = Callable[[Settings], Storage]

HELP = {
    "suspend": "suspend an account: it cannot sign in, its sessions end, its tokens are "
    "refused until it is activated",
    "activate": "make a suspended or closed account active again",
    "close": "close an account: as suspend, and every token is revoked",
}


# Subjects made before 0.5.0 may start with "-": argparse reads those after "--" only.
ACCOUNT_HELP = "email address or sub (one that starts with - goes after --)"


def add_commands(user: Any, opener: Opener) -> None:
    """Register the status commands on the ``user`` subparsers."""
    for action, help in HELP.items():
        parser = user.add_parser(action, help=help)
        parser.add_argument("account", metavar="ACCOUNT", help=ACCOUNT_HELP)
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.set_defaults(
            func=lambda args, settings, action=action: _change(args, settings, opener, action)
        )
    status = user.add_parser("status", help="show an account's status")
    status.add_argument("account", metavar="ACCOUNT", help=ACCOUNT_HELP)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=lambda args, settings: _show(args, settings, opener))


def _change(args: argparse.Namespace, settings: Settings, opener: Opener, action: str) -> int:
    provider = Provider(settings, opener(settings))
    try:
        user = _find(provider, args.account)
        changed = account_status.change_status(
            provider, user, account_status.ACTIONS[action], _actor(), wake=False
        ).changed
        user = _find(provider, user.subject)
    finally:
        provider.close()
    _print(args, user, changed)
    return 0


def _show(args: argparse.Namespace, settings: Settings, opener: Opener) -> int:
    provider = Provider(settings, opener(settings))
    try:
        user = _find(provider, args.account)
    finally:
        provider.close()
    _print(args, user, None)
    return 0


def _find(provider: Provider, account: str) -> User:
    try:
        return users.find(provider, account)
    except users.UserNotFound:
        raise SystemExit(f"no user with email or sub {account}") from None


def _print(args: argparse.Namespace, user: User, changed: bool | None) -> None:
    name = user.email or f"sub:{user.subject}"
    if args.json:
        body = users.described(user)
        if changed is not None:
            body["changed"] = changed
        print(json.dumps(body))
        return
    since = ""
    if user.status_changed_at:
        moment = datetime.datetime.fromtimestamp(user.status_changed_at, datetime.timezone.utc)
        since = f" since {moment:%Y-%m-%d %H:%M} UTC"
    unchanged = " (unchanged)" if changed is False else ""
    print(f"{name} is {user.status}{since}{unchanged}")
