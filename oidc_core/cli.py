"""The oidc-core command: init, migrate, purge, user, client, keys, serve.

Settings come from OIDC_* environment variables, like the standalone server's.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence

from . import (
    __version__,
    cli_admin,
    cli_database,
    cli_keys,
    cli_serve,
    cli_templates,
    cli_users,
    throttle,
)
from .addresses import is_mailbox
from .keys import create_key_if_missing
from .passwords import PasswordService, PasswordTooLong
from .records import User
from .settings import ConfigurationError, Settings
from .storage import Audit, DuplicateEmail, SchemaTooNew, Storage, StorageError
from .text import escaped

DEMO_EMAIL = "demo@example.com"
DEMO_CLIENT_NAME = "Demo relying party"
DEMO_REDIRECT_URIS = ["http://127.0.0.1:9000/callback", "http://localhost:9000/callback"]


def _open(settings: Settings) -> Storage:
    storage = Storage(settings.database_url)
    problem = storage.schema_problem()
    if problem is not None:
        storage.close()
        raise SystemExit(problem)
    return storage


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    _init(settings, args.key_alg, demo=args.demo)
    return 0


def _init(settings: Settings, key_alg: str, demo: bool) -> None:
    """The schema created or upgraded, a signing key; the demo user and client if asked."""
    storage = Storage(settings.database_url)
    try:
        before, after = storage.upgrade()
    except SchemaTooNew as exc:
        raise SystemExit(f"refused: {exc}") from None
    print(f"schema: version {before} -> {after}" if before != after else f"schema: version {after}")
    kid = create_key_if_missing(storage, key_alg)
    print(f"signing key: created {kid}" if kid else "signing key: present")
    if demo:
        _demo(storage, settings)


def _demo(storage: Storage, settings: Settings) -> None:
    """Create (or refresh) a demo user and client and print how to use them."""
    passwords = PasswordService(settings)
    password = secrets.token_urlsafe(12)
    user = storage.users.by_email(DEMO_EMAIL)
    if user is None:
        storage.users.create(
            DEMO_EMAIL,
            passwords.hash(password),
            name="Demo User",
            given_name="Demo",
            family_name="User",
            preferred_username="demo",
            locale="en",
            email_verified=True,
            is_admin=True,
        )
    else:
        storage.users.set_password_hash(user.id, passwords.hash(password))
        storage.users.set_admin(DEMO_EMAIL, True)
    client, secret = storage.clients.create_or_reset_demo(DEMO_CLIENT_NAME, DEMO_REDIRECT_URIS)
    issuer = settings.issuer
    print(
        f"""
demo user     email: {DEMO_EMAIL}   password: {password}   (an administrator)
demo client   client_id: {client.client_id}
              client_secret: {secret}
              redirect URIs: {", ".join(DEMO_REDIRECT_URIS)}
try:          {issuer}/.well-known/openid-configuration
              {issuer}/authorize?client_id={client.client_id}&response_type=code&scope=openid%20profile%20email&redirect_uri={DEMO_REDIRECT_URIS[0]}&state=xyz
admin console {issuer}/admin/
your account  {issuer}/account/   (connected apps, sessions, profile)
(the demo password and secret change every time init --demo or serve --demo runs)
"""
    )


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> int:
    if not is_mailbox(args.email):
        raise SystemExit(f"not one email address: {escaped(args.email)}")
    storage = _open(settings)
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else ""
    if not password:
        raise SystemExit("give the password on standard input with --password-stdin")
    try:
        password_hash = PasswordService(settings).hash(password)
        user = storage.users.create(
            args.email,
            password_hash,
            name=args.name or "",
            given_name=args.given_name or "",
            family_name=args.family_name or "",
            preferred_username=args.username or "",
            locale=args.locale or "",
            email_verified=args.email_verified,
            is_admin=args.admin,
        )
    except DuplicateEmail:
        raise SystemExit(f"a user with email {args.email} already exists") from None
    except PasswordTooLong as exc:
        raise SystemExit(str(exc)) from None
    print(
        json.dumps({"sub": user.subject, "email": user.email})
        if args.json
        else f"created user {user.email} (sub {user.subject})"
    )
    if args.send_verification and not args.email_verified:
        _send_verification(settings, storage, user)
    return 0


def _send_verification(settings: Settings, storage: Storage, user: User) -> None:
    """Mail the new user the link that confirms their address, and wait for the sending
    (failures are logged to standard error)."""
    from .account.links import send_verification
    from .provider import Provider

    provider = Provider(settings, storage)
    send_verification(provider, user)
    if not provider.mail.drain(timeout=4 * settings.smtp_timeout):
        print("warning: the verification mail was not sent in time", file=sys.stderr)


def cmd_user_promote(args: argparse.Namespace, settings: Settings) -> int:
    storage = _open(settings)
    action = "user.demote" if args.demote else "user.promote"
    user = storage.users.set_admin(args.email, not args.demote, Audit(cli_admin._actor(), action))
    if user is None:
        raise SystemExit(f"no user with email {args.email}")
    print(
        f"{user.email} is {'an administrator' if user.is_admin else 'no longer an administrator'}"
    )
    return 0


def cmd_user_verify_email(args: argparse.Namespace, settings: Settings) -> int:
    """Mark an account's address verified (the administrator vouches for it), or not."""
    storage = _open(settings)
    action = "user.email_unverified" if args.unset else "user.email_verified"
    audit = Audit(cli_admin._actor(), action)
    user = storage.users.set_email_verified(args.email, not args.unset, audit)
    if user is None:
        raise SystemExit(f"no user with email {args.email}")
    print(f"{user.email} is {'verified' if user.email_verified else 'not verified'}")
    return 0


def cmd_user_unlock(args: argparse.Namespace, settings: Settings) -> int:
    """Clear the failed sign-in counters, and so the locks, of an email (its second
    factor's too, when an account has it) or an address."""
    if not (args.email or args.address):
        raise SystemExit("give --email, --address or both")
    if args.address and throttle.address_key(args.address).startswith("ip:?"):
        raise SystemExit(f"{args.address!r} is not an IP address")
    storage = _open(settings)
    actor = cli_admin._actor()
    if args.email:
        user = storage.users.by_email(args.email.strip())
        second_factor = [throttle.mfa_key(user.id)] if user else []
        cleared = storage.throttle.clear(
            [throttle.account_key(args.email), *second_factor],
            [throttle.pair_prefix(args.email)],
            audit=Audit(actor, "user.unlock"),
            target=args.email.strip().lower(),
        )
        print(f"{args.email}: {cleared} counter(s) cleared")
    if args.address:
        key = throttle.address_key(args.address)
        cleared = storage.throttle.clear(
            [key], audit=Audit(actor, "address.unlock"), target=key.removeprefix("ip:")
        )
        print(f"{key.removeprefix('ip:')}: {cleared} counter(s) cleared")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # The module's docstring is the description: plain text, argparse shows it as it is.
    parser = argparse.ArgumentParser(prog="oidc-core", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create or upgrade the schema; create a signing key")
    init.add_argument("--demo", action="store_true", help="also create a demo user and client")
    init.add_argument("--key-alg", default="RS256", choices=["RS256", "ES256"])
    init.set_defaults(func=cmd_init)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create_user = user.add_parser("create", help="create a user")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password-stdin", action="store_true")
    create_user.add_argument("--name")
    create_user.add_argument("--given-name")
    create_user.add_argument("--family-name")
    create_user.add_argument("--username")
    create_user.add_argument("--locale")
    create_user.add_argument(
        "--email-verified",
        action="store_true",
        help="mark the address verified (the administrator vouches for it)",
    )
    create_user.add_argument(
        "--send-verification",
        action="store_true",
        help="mail the user a link that confirms the address (24 hours)",
    )
    create_user.add_argument("--admin", action="store_true")
    create_user.add_argument("--json", action="store_true")
    create_user.set_defaults(func=cmd_user_create)

    promote = user.add_parser("promote", help="make a user an administrator")
    promote.add_argument("--email", required=True)
    promote.add_argument("--demote", action="store_true", help="withdraw the flag instead")
    promote.set_defaults(func=cmd_user_promote)

    verify = user.add_parser(
        "verify-email", help="mark a user's address verified (you vouch for it)"
    )
    verify.add_argument("--email", required=True)
    verify.add_argument("--unset", action="store_true", help="mark it not verified instead")
    verify.set_defaults(func=cmd_user_verify_email)

    unlock = user.add_parser(
        "unlock", help="clear the failed sign-in counters and locks of an email or address"
    )
    unlock.add_argument("--email", help="the account, from every address")
    unlock.add_argument("--address", help="an IP address (IPv6: its /64), for every account")
    unlock.set_defaults(func=cmd_user_unlock)
    cli_users.add_commands(user, _open)

    cli_database.add_commands(sub, _open)
    cli_admin.add_commands(sub, _open)
    cli_keys.add_commands(sub, _open)
    cli_templates.add_commands(sub)

    cli_serve.add_commands(sub, _open, lambda settings: _init(settings, "RS256", demo=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        raise SystemExit(f"configuration error: {exc}") from None
    try:
        return int(args.func(args, settings))
    except StorageError as exc:
        raise SystemExit(f"database error: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
