"""The oidc-core command: init, migrate, purge, user, client, keys, serve.

Settings come from OIDC_* environment variables, like the standalone server's.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import (
    __version__,
    cli_admin,
    cli_database,
    cli_keys,
    cli_templates,
    cli_users,
    metrics,
    serving,
    throttle,
)
from .addresses import is_mailbox
from .keys import create_key_if_missing
from .passwords import PasswordService, PasswordTooLong
from .records import User
from .settings import ConfigurationError, Settings
from .storage import Audit, DuplicateEmail, SchemaTooNew, Storage, StorageError
from .text import escaped
from .ui import render
from .ui.brand import Brand

DEMO_EMAIL = "demo@example.com"
DEMO_CLIENT_NAME = "Demo relying party"
DEMO_REDIRECT_URIS = ["http://127.0.0.1:9000/callback", "http://localhost:9000/callback"]
# How serve runs gunicorn's workers (docs/deployment.md, "Worker class and keep-alive"):
# measured on the benchmark's token, flow, userinfo and login scenarios (bench/README.md).
WORKER_CLASSES = ("gthread", "sync")
DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 2
# Seconds an idle kept-alive connection stays open: relying parties reuse theirs between
# token requests; behind a load balancer, set it above the balancer's idle timeout.
DEFAULT_KEEP_ALIVE = 5


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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.certfile) != bool(args.keyfile):
        raise SystemExit("serve: --certfile and --keyfile go together")
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
        "gunicorn"
    )
    if gunicorn is None:
        raise SystemExit("gunicorn is not installed: pip install 'oidc-core[server]'")
    https = bool(args.certfile)
    # The issuer of a loopback bind and the longest URL gunicorn reads, unless set: the
    # workers build their settings from this environment too.
    os.environ.update(serving.environment(os.environ, args.bind, https))
    try:
        settings = Settings.from_env()
        limits = serving.gunicorn_limits(settings)
        # The brand's files and colour and the template overrides, checked by each worker
        # as it builds the provider: once here, as one line.
        Brand(settings)
        render.check_overrides(settings.templates_dir)
    except ConfigurationError as exc:
        raise SystemExit(f"configuration error: {exc}") from None
    warning = serving.issuer_warning(settings, args.bind, https)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    if args.demo:
        _init(settings, "RS256", demo=True)
    _open(settings).close()
    _metrics_directory()
    argv = [
        gunicorn,
        # Its hooks empty the metrics directory at start, keep a dead worker's counts and
        # remove the directory at the end if it is ours.
        "--config",
        "python:oidc_adapters.gunicorn_metrics",
        "--bind",
        args.bind,
        "--workers",
        str(args.workers),
        *worker_options(args.worker_class, args.threads, args.keep_alive),
        "--no-control-socket",
        "--log-level",
        args.log_level,
        # No gunicorn access log: its request line holds the query string (codes, tokens,
        # id_token_hint); the provider writes its own access line without it.
        "--timeout",
        "30",
        *limits,
    ]
    if args.certfile:
        argv += ["--certfile", args.certfile, "--keyfile", args.keyfile]
    argv.append("oidc_adapters.standalone:create_app()")
    os.execv(gunicorn, argv)  # noqa: S606 - replace this process with gunicorn
    return 0  # not reached


def worker_options(worker_class: str, threads: int, keep_alive: int) -> list[str]:
    """gunicorn's options for the worker class: sync workers take one connection at a
    time and close it after the answer; gthread workers keep connections alive, idle for at
    most ``keep_alive`` seconds, and serve ``threads`` requests at once per process."""
    if worker_class == "sync":
        return ["--worker-class", "sync"]
    return [
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--keep-alive",
        str(keep_alive),
    ]


def _metrics_directory() -> None:
    """Where the workers count for ``/admin/metrics``: a fresh directory for this server,
    unless ``PROMETHEUS_MULTIPROC_DIR`` names one (it is emptied at start)."""
    if os.environ.get(metrics.DIRECTORY_VARIABLE):
        return
    directory = tempfile.mkdtemp(prefix="oidc-core-metrics-")
    (Path(directory) / metrics.TEMPORARY_MARK).touch()
    os.environ[metrics.DIRECTORY_VARIABLE] = directory


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


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

    serve = sub.add_parser("serve", help="run the provider under gunicorn")
    serve.add_argument(
        "--bind",
        default="127.0.0.1:8000",
        help="HOST:PORT to listen on (default %(default)s); on a loopback host, the issuer "
        "follows it unless OIDC_ISSUER is set",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="worker processes, one per core is right (default %(default)s, this machine's cores)",
    )
    serve.add_argument(
        "--worker-class",
        default=DEFAULT_WORKER_CLASS,
        choices=WORKER_CLASSES,
        metavar="CLASS",
        help="gunicorn's worker class, gthread or sync (default %(default)s): gthread keeps "
        "connections alive and serves --threads requests at once per process; sync closes "
        "every connection",
    )
    serve.add_argument(
        "--threads",
        type=_positive,
        default=DEFAULT_THREADS,
        help="requests served at once per worker process with gthread (default %(default)s)",
    )
    serve.add_argument(
        "--keep-alive",
        type=_positive,
        default=DEFAULT_KEEP_ALIVE,
        metavar="SECONDS",
        help="with gthread, how long an idle connection stays open (default %(default)s); "
        "behind a load balancer, more than its idle timeout",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="first do what init --demo does: schema, signing key, demo user and client, "
        "whose credentials are printed last",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error", "critical"],
        help="gunicorn's own log (start-up, workers); default %(default)s: its start-up "
        "lines only at info. The provider's access lines are always written",
    )
    serve.add_argument(
        "--certfile", help="serve https with this PEM certificate (chain); needs --keyfile"
    )
    serve.add_argument("--keyfile", help="the PEM private key of --certfile")
    serve.set_defaults(func=cmd_serve)
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
