"""CPU per request of the provider's WSGI app, in process: no server, no sockets, no load
generator, so a far steadier figure than ``make bench`` on a shared machine.

Each scenario is called through the standalone WSGI app with a fresh input per request
(pre-issued codes and refresh tokens from ``bench/fixture.py``; one access token for
UserInfo), on SQLite in a temporary directory, with the access line going to a file and
Prometheus counters in multiprocess mode, as under ``oidc-core serve``.  It reports the
median of ``--rounds`` rounds of ``--requests`` requests each (CPU time of this process,
``time.process_time``), with the lowest and highest round::

    .venv/bin/python bench/inprocess.py                     # token, refresh, userinfo
    .venv/bin/python bench/inprocess.py --only token --rounds 5 --requests 3000
    .venv/bin/python bench/inprocess.py --only token --profile   # cProfile tables
    .venv/bin/python bench/inprocess.py --only token --trace     # one request's SQL

One RS256 signature is timed the same way, so that the figures compare with issue 19's
"x one signature" on any day.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ISSUER = "http://127.0.0.1:9999"
WARM_UP = 200


def _environ(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "9999",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:9999",
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


class Bench:
    """The provider's app on a fresh SQLite database, with the benchmark's fixture."""

    def __init__(self) -> None:
        work = Path(tempfile.mkdtemp(prefix="oidc-inprocess-"))
        (work / "metrics").mkdir()
        url = f"sqlite:///{work}/op.db"
        env = {
            **os.environ,
            "OIDC_DATABASE_URL": url,
            "OIDC_ISSUER": ISSUER,
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        }
        os.environ.update(env)
        sys.path.insert(0, str(Path(__file__).parent))
        from fixture import REDIRECT_URI, prepare
        from oidc_adapters.standalone import create_app

        self.fixture = prepare(url, ISSUER, Path(sys.executable).parent / "oidc-core", env)
        self.app = create_app()
        # The access line goes to a file through the configured format, as a server's would.
        root = logging.getLogger()
        for handler in root.handlers:
            log_file = (work / "access.log").open("a")
            handler.setStream(log_file)  # type: ignore[attr-defined]
        self.redirect_uri = REDIRECT_URI
        self.basic = self.fixture.clients["RS256"].authorization

    def call(self, environ: dict[str, Any]) -> None:
        status: list[str] = []
        out = b"".join(self.app(environ, lambda s, h, e=None: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{environ['PATH_INFO']}: {status[0]} {out[:300]!r}")

    def token_requests(self, count: int) -> list[dict[str, Any]]:
        body = "grant_type=authorization_code&code=%s&redirect_uri=" + self.redirect_uri
        return [
            _environ("POST", "/token", (body % code).encode(), {"Authorization": self.basic})
            for code in self.fixture.codes(count)
        ]

    def refresh_requests(self, count: int) -> list[dict[str, Any]]:
        body = "grant_type=refresh_token&refresh_token=%s"
        return [
            _environ("POST", "/token", (body % token).encode(), {"Authorization": self.basic})
            for token in self.fixture.refresh_tokens(count)
        ]

    def userinfo_requests(self, count: int) -> list[dict[str, Any]]:
        bearer = {"Authorization": "Bearer " + self.fixture.access_token()}
        return [_environ("GET", "/userinfo", b"", bearer) for _ in range(count)]


def signature_ms(count: int = 300) -> float:
    """CPU of one RS256 signature of a small payload (cryptography, RSA-2048)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = time.process_time()
    for _ in range(count):
        key.sign(b"x" * 600, padding.PKCS1v15(), hashes.SHA256())
    return (time.process_time() - start) * 1000 / count


def run_round(bench: Bench, make: Callable[[int], list[dict[str, Any]]], count: int) -> float:
    environs = make(count)
    start = time.process_time()
    for environ in environs:
        bench.call(environ)
    return (time.process_time() - start) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("token", "refresh", "userinfo"), action="append")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true", help="cProfile one round instead")
    parser.add_argument("--trace", action="store_true", help="print one request's SQL")
    args = parser.parse_args()
    bench = Bench()
    makers = {
        "token": bench.token_requests,
        "refresh": bench.refresh_requests,
        "userinfo": bench.userinfo_requests,
    }
    for name in args.only or list(makers):
        make = makers[name]
        for environ in make(WARM_UP):
            bench.call(environ)
        if args.trace:
            from oidc_core.storage.db import database_proxy

            environ = make(1)[0]
            connection = database_proxy.obj.connection()
            connection.set_trace_callback(lambda sql: print("  SQL:", sql[:160]))
            bench.call(environ)
            connection.set_trace_callback(None)
            continue
        if args.profile:
            environs = make(args.requests)
            profile = cProfile.Profile()
            profile.enable()
            for environ in environs:
                bench.call(environ)
            profile.disable()
            for order, lines in (("cumulative", 60), ("tottime", 40)):
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(order).print_stats(lines)
                print(out.getvalue())
            continue
        rounds = [run_round(bench, make, args.requests) for _ in range(args.rounds)]
        print(
            f"{name:9} {statistics.median(rounds):.3f} ms CPU per request (median of "
            f"{len(rounds)} x {args.requests}; min {min(rounds):.3f}, max {max(rounds):.3f})"
        )
    if not (args.trace or args.profile):
        print(f"one RS256 signature: {signature_ms():.3f} ms CPU")


if __name__ == "__main__":
    main()
