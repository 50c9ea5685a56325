"""Benchmark the token endpoint against a hello-world WSGI app under the same gunicorn.

``make bench`` runs this file; ``bench/README.md`` explains what it measures and how to read
the table.  Both apps run under gunicorn with the production settings on free loopback
ports; ``wrk`` loads them in turn (interleaved, several repetitions) and each run records
requests/s, latency, errors and the CPU the gunicorn processes spent (from /proc).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import platform
import resource
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

from oidc_core import credentials, jose
from oidc_core.passwords import PasswordService
from oidc_core.settings import Settings
from oidc_core.storage import NewCode, Storage

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LUA = BENCH / "load.lua"
REDIRECT_URI = "http://127.0.0.1:9000/callback"
REDIRECT_URI_ENCODED = "http%3A%2F%2F127.0.0.1%3A9000%2Fcallback"
SCOPES = ("openid", "profile", "email")
THREADS, CONNECTIONS, WORKERS = 2, 16, 2
CLK_TCK = os.sysconf("SC_CLK_TCK")
PACKAGES = ("oauthlib", "josepy", "peewee", "gunicorn", "WebOb", "cryptography")


# -- processes -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int(stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 (state) on: the command name may contain spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (fields 14 and 15)."""
    ticks = 0
    for pid in pids:
        fields = stat_fields(pid)
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine spent (/proc/stat: all but idle and iowait)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


class Server:
    """One gunicorn with the production settings on a free loopback port."""

    def __init__(self, name: str, app: str, port: int, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.port = port
        argv = [
            str(BIN / "gunicorn"),
            app,
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--no-control-socket",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            str(BENCH),
        ]
        self.log = logs / f"{name}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        self.workers: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    self.workers = children(self.proc.pid)
                    if len(self.workers) == WORKERS:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s; see {self.log}")

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.workers]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# -- the provider's data ---------------------------------------------------------------


@dataclass
class Fixture:
    storage: Storage
    client_pk: int
    user_id: int
    authorization: str
    codes_file: Path

    def issue_codes(self, count: int) -> None:
        """Pre-issue ``count`` codes (committed 1000 at a time) and write them to the file."""
        now = int(time.time())
        codes = [credentials.new_token() for _ in range(count)]
        for start in range(0, count, 1000):
            with self.storage.database.atomic():
                for code in codes[start : start + 1000]:
                    self.storage.grants.issue_code(
                        None,
                        NewCode(
                            code=code,
                            client_pk=self.client_pk,
                            user_id=self.user_id,
                            redirect_uri=REDIRECT_URI,
                            scopes=SCOPES,
                            nonce=secrets.token_urlsafe(12),
                            claims=None,
                            code_challenge=None,
                            code_challenge_method=None,
                            auth_time=now,
                            ttl=3600,
                        ),
                        remember_scopes=False,
                    )
        self.storage.close()  # no connection of ours stays open during a run
        self.codes_file.write_text("\n".join(codes) + "\n")

    def database_pids(self) -> list[int]:
        """PostgreSQL backends serving the other connections to our database."""
        if not self.storage.url.startswith("postgres"):
            return []
        query = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in self.storage.database.execute_sql(query).fetchall()]
        self.storage.close()
        return pids


def prepare(url: str, issuer: str, work: Path) -> Fixture:
    env = {**os.environ, "OIDC_DATABASE_URL": url, "OIDC_ISSUER": issuer}
    subprocess.run([str(BIN / "oidc-core"), "init"], env=env, check=True, timeout=120)
    storage = Storage(url)
    client, secret = storage.clients.create("bench client", [REDIRECT_URI])
    passwords = PasswordService(Settings(issuer=issuer, database_url=url))
    user = storage.users.create(
        f"bench-{secrets.token_hex(6)}@example.com",
        passwords.hash(secrets.token_urlsafe(16)),
        name="Bench User",
        email_verified=True,
    )
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    return Fixture(storage, client.id, user.id, "Basic " + basic, work / "codes.txt")


def signature_ms(storage: Storage, iterations: int) -> float:
    """CPU time of one ``jose.sign_jwt`` with the provider's current key, in ms."""
    record = next(r for r in storage.keys.all() if r.state == "current")
    storage.close()
    key = jose.load_signing_key(record.private_pem, record.alg, record.kid)
    now = int(time.time())
    claims = {
        "iss": "http://127.0.0.1:8000",
        "sub": credentials.new_subject(),
        "aud": credentials.new_client_id(),
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "nonce": secrets.token_urlsafe(12),
        "at_hash": secrets.token_urlsafe(16),
    }
    start = time.process_time()
    for _ in range(iterations):
        jose.sign_jwt(claims, key)
    return (time.process_time() - start) * 1000 / iterations


# -- runs ------------------------------------------------------------------------------


@dataclass
class Run:
    app: str
    req_s: float
    cpu_ms: float
    db_cpu_ms: float
    client_cpu_ms: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cores: float  # CPU of this app's gunicorn / wall time
    machine_cores: float  # CPU of every process on the machine / wall time


def wrk(server: Server, duration: float, lua_args: list[str], db_pids: list[int]) -> Run:
    pids = server.pids()
    start = time.monotonic(), machine_busy_seconds()
    before = cpu_seconds(pids), cpu_seconds(db_pids), resource.getrusage(resource.RUSAGE_CHILDREN)
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "5s"]
    argv += ["-s", str(LUA), server.url, "--", *lua_args]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=duration + 60)
    after = cpu_seconds(pids), cpu_seconds(db_pids), resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - start[0]
    if children(server.proc.pid) != server.workers:
        raise RuntimeError(f"{server.name}: a worker restarted during the run; see {server.log}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    result = json.loads(line.removeprefix("BENCH_JSON "))
    requests = max(result["requests"], 1)
    client_cpu = sum(getattr(after[2], f) - getattr(before[2], f) for f in ("ru_utime", "ru_stime"))
    return Run(
        app=server.name,
        req_s=result["requests"] / (result["duration_us"] / 1e6),
        cpu_ms=(after[0] - before[0]) * 1000 / requests,
        db_cpu_ms=(after[1] - before[1]) * 1000 / requests,
        client_cpu_ms=client_cpu * 1000 / requests,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=max(result["bad"], result["status_errors"]) + result["socket_errors"],
        server_cores=(after[0] - before[0]) / wall,
        machine_cores=(machine_busy_seconds() - start[1]) / wall,
    )


@dataclass
class Bench:
    hello: Server
    provider: Server
    fixture: Fixture
    code: str  # the version of oidc-core the servers run
    runs: list[Run] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # of the provider, to size code pools

    def run(self, server: Server, duration: float, keep: bool = True) -> None:
        if server is self.hello:
            result = wrk(server, duration, ["hello"], [])
        else:
            self.fixture.issue_codes(int(max(self.rates, default=3000) * duration * 2) + 1000)
            lua_args = ["token", str(self.fixture.codes_file), self.fixture.authorization]
            lua_args += [REDIRECT_URI_ENCODED, str(THREADS)]
            result = wrk(server, duration, lua_args, self.fixture.database_pids())
            self.rates.append(result.req_s)
        print(
            f"  {result.app:<8} {result.req_s:8.0f} req/s  {result.cpu_ms:6.3f} ms CPU/req  "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}  "
            f"cores: server {result.server_cores:.2f} machine {result.machine_cores:.2f}",
            flush=True,
        )
        if keep:
            self.runs.append(result)


def code_version() -> str:
    """The commit the servers run, and whether oidc_core/ or adapters/ differ from it."""
    git = ["git", "-C", str(BENCH.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, timeout=10)
    paths = ["--", "oidc_core", "adapters"]
    diff = subprocess.run([*git, "diff", "--quiet", "HEAD", *paths], timeout=10)
    dirty = " with uncommitted changes in oidc_core/ or adapters/" if diff.returncode else ""
    return (head.stdout.decode().strip() or "unknown") + dirty


# -- report ----------------------------------------------------------------------------


def median(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(run, attr) for run in runs)


def database_version(fixture: Fixture) -> str:
    if not fixture.storage.url.startswith("postgres"):
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), file on local disk"
    row = fixture.storage.database.execute_sql("SHOW server_version").fetchone()
    fixture.storage.close()
    return f"PostgreSQL {row[0]} on loopback"


def report(
    bench: Bench, backend: str, sign_ms: list[float], rss: dict[str, float], args: Any
) -> str:
    hello = [r for r in bench.runs if r.app == "hello"]
    token = [r for r in bench.runs if r.app == "token"]
    sign = statistics.median(sign_ms)
    postgres = backend == "postgresql"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    command = " ".join(["bench/run.py", *sys.argv[1:]])
    versions = ", ".join(f"{name} {version(name)}" for name in PACKAGES)
    lines = [
        f"# Token endpoint benchmark: {backend}",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; `{command}`",
        f"- Machine: {os.cpu_count()} cores (nproc), {platform.platform()}, "
        f"Python {platform.python_version()}; {versions}; wrk {wrk_version}",
        f"- oidc-core: commit {bench.code}",
        f"- Database: {database_version(bench.fixture)}",
        f"- Load: `wrk -t{THREADS} -c{CONNECTIONS}`, {args.repeat} x {args.duration:g} s per app, "
        f"interleaved, medians; gunicorn {WORKERS} sync workers for both apps; the load "
        f"generator shares the {os.cpu_count()} cores",
        f"- One RS256 signature (`oidc_core.jose.sign_jwt`, RSA-2048, runner process, median "
        f"of {len(sign_ms)} x {args.sign_iterations}): **{sign:.3f} ms CPU**",
        "",
        "| app | req/s | ratio | server CPU/req (ms) | x RS256 sig | p50 (ms) | p99 (ms) "
        "| non-2xx + errors | peak RSS/worker (MiB) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    base = median(hello, "req_s")
    for label, runs in (("hello-world (raw WSGI)", hello), ("token endpoint", token)):
        cpu = median(runs, "cpu_ms")
        lines.append(
            f"| {label} | {median(runs, 'req_s'):.0f} | {median(runs, 'req_s') / base:.2f} "
            f"| {cpu:.3f} | {cpu / sign:.1f} | {median(runs, 'p50_ms'):.2f} "
            f"| {median(runs, 'p99_ms'):.2f} | {sum(r.errors for r in runs)} "
            f"| {rss[runs[0].app]:.1f} |"
        )
    lines.append("")
    if postgres:
        lines.append(
            f"PostgreSQL backends' CPU per token request (not in the server column): "
            f"{median(token, 'db_cpu_ms'):.3f} ms."
        )
    lines += [
        f"Load generator (wrk) CPU per request: hello {median(hello, 'client_cpu_ms'):.3f} ms, "
        f"token {median(token, 'client_cpu_ms'):.3f} ms.",
        "",
        "## Runs",
        "",
        "Cores: CPU time over wall time, of this app's gunicorn and of the whole machine (the "
        "load generator, the database and anything else running count in the latter).",
        "",
        "| # | app | req/s | server CPU/req (ms) | "
        + ("PostgreSQL CPU/req (ms) | " if postgres else "")
        + "p50 (ms) | p99 (ms) | errors | cores: server | cores: machine |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|" + ("--:|" if postgres else ""),
    ]
    for number, r in enumerate(bench.runs, 1):
        lines.append(
            f"| {number} | {r.app} | {r.req_s:.0f} | {r.cpu_ms:.3f} | "
            + ((f"{r.db_cpu_ms:.3f} | " if r.app == "token" else "- | ") if postgres else "")
            + f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {r.server_cores:.2f} "
            f"| {r.machine_cores:.2f} |"
        )
    return "\n".join(lines) + "\n"


# -- main ------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 x 2 s per app")
    parser.add_argument("--duration", type=float, default=10, help="seconds per run (10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per app (3)")
    parser.add_argument("--sign-iterations", type=int, default=2000)
    parser.add_argument(
        "--database-url", help="postgresql://... (your own database); default: a fresh SQLite"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="default bench/results/token-endpoint-BACKEND.md "
        "(a --quick run writes no file unless given)",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.repeat, args.sign_iterations = 2, 1, 300
    return args


@contextlib.contextmanager
def servers(url: str, work: Path) -> Iterator[tuple[Server, Server, Fixture]]:
    started: list[Server] = []
    try:
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        fixture = prepare(url, issuer, work)
        env = {**os.environ, "OIDC_DATABASE_URL": url, "OIDC_ISSUER": issuer}
        provider = Server("token", "oidc_adapters.standalone:create_app()", port, env, work)
        started.append(provider)
        hello = Server("hello", "hello:app", free_port(), dict(os.environ), work)
        started.append(hello)
        for server in started:
            server.wait_ready()
        yield hello, provider, fixture
    finally:
        for server in started:
            server.stop()


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="oidc-bench-"))
    url = args.database_url or f"sqlite:///{work}/bench.db"
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    code = code_version()
    with servers(url, work) as (hello, provider, fixture):
        bench = Bench(hello, provider, fixture, code)
        print("warm-up", flush=True)
        bench.run(hello, min(args.duration, 2), keep=False)
        bench.run(provider, min(args.duration, 2), keep=False)
        sign_ms: list[float] = []
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat}", flush=True)
            order = (hello, provider) if round_ % 2 == 0 else (provider, hello)
            for server in order:
                bench.run(server, args.duration)
            sign_ms.append(signature_ms(fixture.storage, args.sign_iterations))
            print(f"  RS256 signature {sign_ms[-1]:.3f} ms CPU", flush=True)
        rss = {s.name: max(peak_rss_mib(pid) for pid in s.workers) for s in (hello, provider)}
        text = report(bench, backend, sign_ms, rss, args)
    print("\n" + text)
    output = args.output or (None if args.quick else BENCH / f"results/token-endpoint-{backend}.md")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        print(f"written to {output}")
    shutil.rmtree(work)
    errors = sum(r.errors for r in bench.runs)
    if errors:
        print(f"FAILED: {errors} non-2xx responses or socket errors", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
