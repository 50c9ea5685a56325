"""``oidc-core registration-token create|list|revoke``: initial access tokens (RFC 7591
section 3) that let a server register its own client at the registration endpoint.

The work is :mod:`oidc_core.admin.initial_tokens`, as for the management API and the
console; the audit log names the actor ``cli:<login name>``.  A refused option ends the
program with one line naming it, and nothing is stored.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from .admin import initial_tokens
from .settings import Settings
from .storage import Storage
from .text import escaped

Opener = Callable[[Settings], Storage]
# a refused field, named as the option that gave it
OPTIONS = {
    "name": "--name",
    "expires_in": "--expires-in",
    "uses_allowed": "--uses",
    "scopes": "--scope",
    "grant_types": "--grant-type",
    "redirect_hosts": "--redirect-host",
}


def add_commands(
    sub: Any, opener: Opener, actor: Callable[[], str], when: Callable[[int | None], str]
) -> None:
    """Register ``registration-token`` on the top-level subparsers."""
    tokens = sub.add_parser(
        "registration-token", help="initial access tokens for the registration endpoint"
    ).add_subparsers(dest="action", required=True)

    create = tokens.add_parser("create", help="a new initial access token, shown once")
    create.add_argument("--name", required=True, help="what or whom it is for")
    create.add_argument(
        "--expires-in", default="1d", help="seconds, or 30m, 12h, 7d (default 1d; at most 366d)"
    )
    create.add_argument("--uses", default="1", help="how many clients it may register (1-1000)")
    create.add_argument(
        "--scope", action="append", default=[], help="a scope clients may have (repeat)"
    )
    create.add_argument(
        "--grant-type", action="append", default=[], help="a grant type clients may have (repeat)"
    )
    create.add_argument(
        "--redirect-host",
        action="append",
        default=[],
        help="a host clients' redirect URIs may have (repeat; no wildcards)",
    )
    create.add_argument("--json", action="store_true")

    def do_create(args: argparse.Namespace, settings: Settings) -> int:
        try:
            request = initial_tokens.checked(
                {
                    "name": args.name,
                    "expires_in": initial_tokens.duration(args.expires_in),
                    "uses_allowed": _number(args.uses),
                    "scopes": args.scope,
                    "grant_types": args.grant_type,
                    "redirect_hosts": args.redirect_host,
                }
            )
        except initial_tokens.InvalidTokenField as error:
            raise SystemExit(f"invalid {OPTIONS[error.field]}: {error.message}") from None
        token, value = initial_tokens.issue(opener(settings), request, actor())
        if args.json:
            print(json.dumps({**initial_tokens.described(token), "token": value}))
        else:
            print(
                f"token: {value}\n(id {token.id}, expires {when(token.expires_at)} UTC, "
                f"{token.uses_allowed} use(s); shown only this once; stored as a hash)"
            )
        return 0

    create.set_defaults(func=do_create)

    listing = tokens.add_parser("list", help="initial access tokens (never their values)")
    listing.add_argument("--json", action="store_true")

    def do_list(args: argparse.Namespace, settings: Settings) -> int:
        found = [initial_tokens.described(t) for t in opener(settings).initial_access_tokens.all()]
        if args.json:
            print(json.dumps(found))
            return 0
        print(f"{'id':>4}  {'name':<30}  {'expires':<16}  {'uses':<9}  {'state':<7}  limits")
        for token in found:
            uses = f"{token['uses']}/{token['uses_allowed']}"
            print(
                f"{token['id']:>4}  {escaped(token['name'])[:30]:<30}  "
                f"{when(token['expires_at']):<16}  {uses:<9}  {token['state']:<7}  {_limits(token)}"
            )
        return 0

    listing.set_defaults(func=do_list)

    revoke = tokens.add_parser("revoke", help="revoke an initial access token")
    revoke.add_argument("id", type=int)

    def do_revoke(args: argparse.Namespace, settings: Settings) -> int:
        try:
            initial_tokens.revoke(opener(settings), args.id, actor())
        except initial_tokens.TokenNotFound:
            raise SystemExit(f"no unrevoked registration token with id {args.id}") from None
        print(f"revoked registration token {args.id}")
        return 0

    revoke.set_defaults(func=do_revoke)


def _number(text: str) -> int | str:
    """A whole number, or the text as it is (refused by the check, which names it)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


def _limits(token: dict[str, Any]) -> str:
    """What clients the token may register, or "none"."""
    shown = [
        " ".join(token[key]) for key in ("scopes", "grant_types", "redirect_hosts") if token[key]
    ]
    return escaped("; ".join(shown)) or "none"
