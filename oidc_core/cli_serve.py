"""``oidc-core serve``: the provider under gunicorn, configured from the environment.

The worker class, the processes and threads, the keep-alive bound and the request limits
are gunicorn's options, chosen as docs/deployment.md ("Worker class and keep-alive")
explains; the provider itself is built in each worker by ``oidc_adapters.standalone``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import metrics, serving
from .cli_database import _positive as positive
from .settings import ConfigurationError, Settings
from .storage import Storage
from .ui import render
from .ui.brand import Brand

Opener = Callable[[Settings], Storage]
Initializer = Callable[[Settings], None]

# How serve runs gunicorn's workers (docs/deployment.md, "Worker class and keep-alive"):
# measured on the benchmark's token, flow, userinfo and login scenarios (bench/README.md).
WORKER_CLASSES = ("gthread", "sync")
DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 2
# Seconds an idle kept-alive connection stays open: relying parties reuse theirs between
# token requests; behind a load balancer, set it above the balancer's idle timeout.
DEFAULT_KEEP_ALIVE = 5


def cmd_serve(
    args: argparse.Namespace, settings: Settings, opener: Opener, demo: Initializer
) -> int:
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
        demo(settings)
    opener(settings).close()
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


def add_commands(sub: Any, opener: Opener, demo: Initializer) -> None:
    """Register ``serve`` on the top-level subparsers; ``demo`` does ``init --demo``'s work."""
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
        type=positive,
        default=DEFAULT_THREADS,
        help="requests served at once per worker process with gthread (default %(default)s)",
    )
    serve.add_argument(
        "--keep-alive",
        type=positive,
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
    serve.set_defaults(func=lambda args, settings: cmd_serve(args, settings, opener, demo))
