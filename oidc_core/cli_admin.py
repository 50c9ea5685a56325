"""``oidc-core client ...``, ``oidc-core admin-token ...`` and ``user promote``
(``registration-token ...``: :mod:`oidc_core.cli_registration_tokens`).

Same semantics as the management API (the same :class:`ClientAdmin` does the work); the
audit log names the actor ``cli:<login name>``.  ``--json`` prints machine-readable output.
Stored text is printed with its control characters escaped (``\\x1b``, :func:`escaped`):
a name stored before they were refused must not drive the operator's terminal.
"""

from __future__ import annotations

import argparse
import datetime
import getpass
import json
from collections.abc import Callable
from typing import Any

from . import cli_client_import, cli_registration_tokens, registration
from .admin import scopes
from .admin.service import ClientAdmin, ClientNotFound
from .sectors import SectorFetcher
from .settings import Settings
from .storage import Audit, Storage
from .text import escaped

Opener = Callable[[Settings], Storage]


def _actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli:unknown"


def _when(timestamp: int | None) -> str:
    if not timestamp:
        return "-"
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M"
    )


def _metadata_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Only the options that were given, under their RFC 7591 names."""
    data: dict[str, Any] = {}
    for option, key in (
        ("name", "client_name"),
        ("description", "description"),
        ("url", "client_uri"),
        ("logo_uri", "logo_uri"),
        ("redirect_uri", "redirect_uris"),
        ("scope", "scope"),
        ("require_pkce", "require_pkce"),
        ("skip_consent", "skip_consent"),
        ("require_mfa", "require_mfa"),
        ("access_token_ttl", "access_token_ttl"),
        ("id_token_ttl", "id_token_ttl"),
        ("id_token_alg", "id_token_signed_response_alg"),
        ("access_token_format", "access_token_format"),
        ("subject_type", "subject_type"),
        ("sector_identifier_uri", "sector_identifier_uri"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            data[key] = value
    if getattr(args, "grant_type", None) is not None:
        data["grant_types"] = ["authorization_code", *args.grant_type]
    if getattr(args, "public", None) is not None:
        data["token_endpoint_auth_method"] = "none" if args.public else "client_secret_basic"
    return data


def _run(action: Callable[[], int]) -> int:
    try:
        return action()
    except registration.InvalidMetadata as exc:
        raise SystemExit(f"invalid {exc.field}: {exc.message}") from None
    except ClientNotFound as exc:
        raise SystemExit(f"no client with client_id {exc.args[0]!r}") from None


def _client_command(
    opener: Opener, command: Callable[[ClientAdmin, argparse.Namespace], int]
) -> Callable[[argparse.Namespace, Settings], int]:
    """A ``client`` command: ``command`` run on the settings' :class:`ClientAdmin`, its
    invalid metadata and unknown client ids ending the program with a message."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        admin = ClientAdmin(opener(settings), SectorFetcher.of(settings))
        return _run(lambda: command(admin, args))

    return run


def _print_client(data: dict[str, Any]) -> None:
    width = max(len(key) for key in data)
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{key:<{width}}  {'' if shown is None else escaped(str(shown))}")


def add_commands(sub: Any, opener: Opener) -> None:
    """Register the client and admin-token commands on the top-level subparsers."""
    client = sub.add_parser("client", help="manage clients").add_subparsers(
        dest="action", required=True
    )

    def metadata_options(parser: argparse.ArgumentParser, creating: bool) -> None:
        parser.add_argument("--name", required=creating, help="client_name")
        parser.add_argument(
            "--redirect-uri",
            action="append",
            required=creating,
            help="an authorized redirect URI (repeat for several; replaces the list on update)",
        )
        parser.add_argument("--description")
        parser.add_argument("--url", help="client_uri: the application's home page")
        parser.add_argument("--logo-uri", help="an absolute URL or a path on the provider")
        parser.add_argument("--scope", help='allowed scopes, e.g. "openid profile email"')
        parser.add_argument(
            "--grant-type",
            action="append",
            choices=list(registration.GRANT_TYPES),
            help="a grant the client may use (repeat for several; authorization_code is always "
            "included; replaces the list on update)",
        )
        flag = argparse.BooleanOptionalAction
        parser.add_argument("--public", action=flag, default=None, help="no secret; PKCE required")
        parser.add_argument("--require-pkce", action=flag, default=None)
        parser.add_argument("--skip-consent", action=flag, default=None, help="first-party app")
        parser.add_argument(
            "--require-mfa", action=flag, default=None, help="sign-ins need a second factor"
        )
        parser.add_argument("--access-token-ttl", type=int, help="seconds (default: settings)")
        parser.add_argument("--id-token-ttl", type=int, help="seconds (default: settings)")
        parser.add_argument("--id-token-alg", choices=list(registration.SIGNING_ALGORITHMS))
        parser.add_argument(
            "--access-token-format",
            choices=list(registration.ACCESS_TOKEN_FORMATS),
            help="opaque (default) or jwt (RFC 9068)",
        )
        parser.add_argument(
            "--subject-type",
            choices=list(registration.SUBJECT_TYPES),
            help="public (default): users' own sub; pairwise: a sub of the client's sector",
        )
        parser.add_argument(
            "--sector-identifier-uri",
            help="https URI of a JSON array listing the redirect URIs; its host is the "
            'pairwise sector ("" for none)',
        )
        parser.add_argument("--json", action="store_true")

    create = client.add_parser("create", help="generate client credentials")
    metadata_options(create, creating=True)

    def do_create(admin: ClientAdmin, args: argparse.Namespace) -> int:
        created, secret = admin.create(_metadata_from_args(args), _actor())
        if args.json:
            print(json.dumps({"client_id": created.client_id, "client_secret": secret}))
        elif secret is None:
            print(f"client_id:     {created.client_id}\n(a public client: no secret)")
        else:
            print(
                f"client_id:     {created.client_id}\nclient_secret: {secret}\n"
                "(the secret is shown only this once; it is stored as a hash)"
            )
        return 0

    create.set_defaults(func=_client_command(opener, do_create))

    listing = client.add_parser("list", help="list clients (never their secrets)")
    listing.add_argument("--search", default="", help="part of the name or client_id")
    listing.add_argument(
        "--sort",
        default="name",
        help="name, created_at, updated_at, client_id; --sort=-KEY for descending",
    )
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")

    def do_list(admin: ClientAdmin, args: argparse.Namespace) -> int:
        found = admin.search(args.search, args.sort, args.limit)
        if args.json:
            print(json.dumps([registration.client_metadata(c, used) for c, used in found]))
            return 0
        header = ("client_id", 24), ("name", 30), ("updated", 16), ("last used", 16)
        print("  ".join(f"{title:<{width}}" for title, width in header) + "  redirect URIs")
        for found_client, used in found:
            name = escaped(found_client.name)[:30]
            print(
                f"{found_client.client_id:<24}  {name:<30}  "
                f"{_when(found_client.updated_at):<16}  {_when(used):<16}  "
                f"{escaped(', '.join(found_client.redirect_uris))}"
            )
        return 0

    listing.set_defaults(func=_client_command(opener, do_list))

    show = client.add_parser("show", help="one client's metadata")
    show.add_argument("client_id")
    show.add_argument("--json", action="store_true")

    def do_show(admin: ClientAdmin, args: argparse.Namespace) -> int:
        data = admin.described(admin.get(args.client_id))
        print(json.dumps(data)) if args.json else _print_client(data)
        return 0

    show.set_defaults(func=_client_command(opener, do_show))

    update = client.add_parser("update", help="change the given fields of a client")
    update.add_argument("client_id")
    metadata_options(update, creating=False)

    def do_update(admin: ClientAdmin, args: argparse.Namespace) -> int:
        data = _metadata_from_args(args)
        if not data:
            raise SystemExit("nothing to change: give at least one option")
        # change(): a public client made confidential gets a secret, shown once
        used = admin.last_used(args.client_id)  # read first: nothing fails after it
        updated, secret = admin.change(args.client_id, data, _actor())
        metadata = registration.client_metadata(updated, used)
        if secret is not None:
            metadata["client_secret"] = secret
        print(json.dumps(metadata)) if args.json else _print_client(metadata)
        return 0

    update.set_defaults(func=_client_command(opener, do_update))

    reset = client.add_parser("reset-secret", help="a new client secret, shown once")
    reset.add_argument("client_id")
    reset.add_argument(
        "--grace-seconds",
        type=int,
        default=0,
        help="how long the previous secret keeps working (default 0: it stops at once)",
    )
    reset.add_argument("--json", action="store_true")

    def do_reset(admin: ClientAdmin, args: argparse.Namespace) -> int:
        secret = admin.reset_secret(args.client_id, _actor(), args.grace_seconds)
        if args.json:
            print(json.dumps({"client_id": args.client_id, "client_secret": secret}))
        else:
            print(f"client_secret: {secret}\n(shown only this once; stored as a hash)")
        return 0

    reset.set_defaults(func=_client_command(opener, do_reset))

    delete = client.add_parser("delete", help="delete a client with its tokens and consents")
    delete.add_argument("client_id")

    def do_delete(admin: ClientAdmin, args: argparse.Namespace) -> int:
        admin.delete(args.client_id, _actor())
        print(f"deleted client {args.client_id}")
        return 0

    delete.set_defaults(func=_client_command(opener, do_delete))

    cli_client_import.add_command(client, _actor, opener)

    tokens = sub.add_parser("admin-token", help="management API tokens").add_subparsers(
        dest="action", required=True
    )
    token_create = tokens.add_parser("create", help="a new API token, shown once")
    token_create.add_argument("--name", required=True, help="what the token is for")
    token_create.add_argument(
        "--scope",
        action="append",
        choices=list(scopes.SCOPES),
        help="what the token may do (repeat for several; default admin: everything)",
    )
    token_create.add_argument("--json", action="store_true")

    def do_token_create(args: argparse.Namespace, settings: Settings) -> int:
        def action() -> int:
            name = registration.check_name(args.name, "name")
            wanted = scopes.checked(args.scope or [scopes.ADMIN])
            details = {"name": name, "scopes": list(wanted)}
            record, token = opener(settings).admin_tokens.create(
                name, Audit(_actor(), "admin_token.create", details), wanted
            )
            if args.json:
                printed = {"id": record.id, "name": record.name, "scopes": list(record.scopes)}
                print(json.dumps({**printed, "token": token}))
            else:
                print(
                    f"token: {token}\n(id {record.id}, scopes {' '.join(record.scopes)}; "
                    "shown only this once; stored as a hash)"
                )
            return 0

        return _run(action)

    token_create.set_defaults(func=do_token_create)

    token_list = tokens.add_parser("list", help="API tokens (never their values)")
    token_list.add_argument("--json", action="store_true")

    def do_token_list(args: argparse.Namespace, settings: Settings) -> int:
        found = opener(settings).admin_tokens.all()
        if args.json:
            print(json.dumps([vars(token) for token in found]))
            return 0
        print(f"{'id':>4}  {'name':<30}  {'created':<16}  {'last used':<16}  {'state':<7}  scopes")
        for token in found:
            state = "revoked" if token.revoked_at else "active"
            print(
                f"{token.id:>4}  {escaped(token.name)[:30]:<30}  {_when(token.created_at):<16}  "
                f"{_when(token.last_used_at):<16}  {state:<7}  {' '.join(token.scopes)}"
            )
        return 0

    token_list.set_defaults(func=do_token_list)

    token_revoke = tokens.add_parser("revoke", help="revoke an API token")
    token_revoke.add_argument("id", type=int)

    def do_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
        if not opener(settings).admin_tokens.revoke(args.id, Audit(_actor(), "admin_token.revoke")):
            raise SystemExit(f"no active admin token with id {args.id}")
        print(f"revoked admin token {args.id}")
        return 0

    token_revoke.set_defaults(func=do_token_revoke)

    cli_registration_tokens.add_commands(sub, opener, _actor, _when)
