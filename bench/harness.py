"""The servers of bench/run.py under gunicorn, and one wrk run against them.

``started`` creates the provider's data (fixture.py) and starts the provider, the hello-world
baselines and the peer on free loopback ports, and stops them at the end; ``measure`` loads
one scenario with ``wrk`` and reads what the run cost from /proc and the workers' counters.
run.py (the rounds) and hotspots.py (py-spy) both use them.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import procs
from fixture import Fixture, prepare
from procs import Server
from scenarios import (
    HELLO_KEEPALIVE,
    PROVIDER_KEEPALIVE,
    THREADS,
    Inputs,
    Scenario,
    write_params,
)

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LUA = BENCH / "load.lua"
CONNECTIONS, WORKERS = 16, 2


@dataclass(frozen=True)
class ServerSetup:
    """How gunicorn serves an app: the worker class, processes, threads per process and,
    for a worker that keeps connections alive, how long an idle connection stays open."""

    worker_class: str  # "sync" or "gthread"
    workers: int
    threads: int = 1
    keep_alive: int = 0  # seconds; sync workers close every connection

    def argv(self) -> list[str]:
        argv = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class != "sync":
            argv += ["--threads", str(self.threads), "--keep-alive", str(self.keep_alive)]
        return argv

    def describe(self) -> str:
        if self.worker_class == "sync":
            return f"{self.workers} sync workers (a connection per request)"
        return (
            f"{self.workers} {self.worker_class} workers x {self.threads} thread(s), "
            f"connections kept alive (idle for at most {self.keep_alive} s)"
        )


# The production setup of `oidc-core serve` until issue 20, and the keep-alive one beside it.
SYNC = ServerSetup("sync", WORKERS)
KEEP_ALIVE = ServerSetup("gthread", WORKERS, threads=2, keep_alive=5)


# -- one run ---------------------------------------------------------------------------


@dataclass
class Run:
    backend: str
    scenario: str
    req_s: float
    units_s: float
    cpu_ms: float  # server CPU per unit
    db_cpu_ms: float  # PostgreSQL backends' CPU per unit
    client_cpu_ms: float  # wrk's CPU per unit
    p50_ms: float
    p99_ms: float
    errors: int
    peak_rss_mib: float  # the largest worker's VmHWM over the run
    key_parses: int
    slow_hashes: int
    login_posts: int  # POST /login served (all of them, also those wrk did not wait for)
    exhausted: int  # wrk threads that ran out of pre-issued inputs before the end
    units: int
    server_cores: float  # CPU of the server / wall time
    machine_cores: float  # CPU of every process on the machine / wall time


def read_counts(directory: Path) -> dict[str, int]:
    """The provider workers' counters (bench/gunicorn_counters.py), summed."""
    total = {"key_parses": 0, "slow_hashes": 0, "login_posts": 0}
    for path in directory.glob("*.json"):
        with contextlib.suppress(ValueError, OSError):
            for key, value in json.loads(path.read_text()).items():
                total[key] += value
    return total


def wrk(
    backend: str,
    scenario: Scenario,
    server: Server,
    duration: float,
    params_file: Path,
    db_pids: list[int],
    counts_dir: Path | None,
) -> Run:
    pids = server.pids()
    for pid in server.workers:
        procs.reset_peak_rss(pid)
    counts = read_counts(counts_dir) if counts_dir else {}
    start = time.monotonic(), procs.machine_busy_seconds()
    before = (
        procs.cpu_seconds(pids),
        procs.cpu_seconds(db_pids),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    whole = max(1, round(duration))  # wrk takes whole seconds
    argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{whole}s", "--timeout", "5s"]
    argv += ["-s", str(LUA), server.url, "--", str(params_file)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=whole + 60)
    after = (
        procs.cpu_seconds(pids),
        procs.cpu_seconds(db_pids),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    wall = time.monotonic() - start[0]
    server.check_workers()
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if out.returncode or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    result = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = result["duration_us"] / 1e6
    units = max(result["units"], 1)
    client = sum(getattr(after[2], f) - getattr(before[2], f) for f in ("ru_utime", "ru_stime"))
    time.sleep(0.2)  # the last answers' post_request hooks
    counted = read_counts(counts_dir) if counts_dir else {}
    return Run(
        backend=backend,
        scenario=scenario.name,
        req_s=result["requests"] / seconds,
        units_s=result["units"] / seconds,
        cpu_ms=(after[0] - before[0]) * 1000 / units,
        db_cpu_ms=(after[1] - before[1]) * 1000 / units,
        client_cpu_ms=client * 1000 / units,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=result["bad"] + result["socket_errors"],  # bad: every unexpected status too
        exhausted=result["exhausted"],
        peak_rss_mib=max(procs.peak_rss_mib(pid) for pid in server.workers),
        key_parses=counted.get("key_parses", 0) - counts.get("key_parses", 0),
        slow_hashes=counted.get("slow_hashes", 0) - counts.get("slow_hashes", 0),
        login_posts=counted.get("login_posts", 0) - counts.get("login_posts", 0),
        units=result["units"],
        server_cores=(after[0] - before[0]) / wall,
        machine_cores=(procs.machine_busy_seconds() - start[1]) / wall,
    )


# -- the servers -----------------------------------------------------------------------


def gunicorn(
    name: str,
    app: str,
    port: int,
    env: dict[str, str],
    work: Path,
    config: str | None,
    setup: ServerSetup = SYNC,
) -> Server:
    argv = [str(BIN / "gunicorn"), app, *setup.argv()]
    argv += ["--no-control-socket", "--timeout", "30", "--bind", f"127.0.0.1:{port}"]
    argv += ["--pythonpath", str(BENCH)]
    if config:
        argv += ["--config", config]
    return Server(name, argv, port, env, work, worker_count=setup.workers)


@dataclass
class Setup:
    backend: str
    url: str
    work: Path
    fixture: Fixture
    servers: dict[str, Server]
    counts_dir: Path
    peer: Any = None  # peers.Peer when the peer runs
    python_peers: list[Any] = field(default_factory=list)  # python_peers.PythonPeer
    rates: dict[str, list[float]] = field(default_factory=dict)


@contextlib.contextmanager
def started(backend: str, url: str, work: Path, with_peer: bool) -> Iterator[Setup]:
    servers: dict[str, Server] = {}
    peer = None
    try:
        port = procs.free_port()
        issuer = f"http://127.0.0.1:{port}"
        counts_dir = work / "counts"
        counts_dir.mkdir()
        env = {
            **os.environ,
            "OIDC_DATABASE_URL": url,
            "OIDC_ISSUER": issuer,
            "BENCH_COUNTS_DIR": str(counts_dir),
            # as `oidc-core serve`: the workers' metrics summed through this directory
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        }
        fixture = prepare(url, issuer, BIN / "oidc-core", env)
        config = str(BENCH / "gunicorn_counters.py")
        app = "oidc_adapters.standalone:create_app()"
        servers["provider"] = gunicorn("provider", app, port, env, work, config)
        # The same provider, data and issuer under the keep-alive setup, on a port of its own
        # (the scenarios "...-keepalive"); its workers count in their own metrics directory.
        kept = {**env, "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics-keepalive")}
        servers[PROVIDER_KEEPALIVE] = gunicorn(
            PROVIDER_KEEPALIVE, app, procs.free_port(), kept, work, config, KEEP_ALIVE
        )
        # The floors count their requests as the provider does: in a directory of their own.
        hello_env = {
            **os.environ,
            "PROMETHEUS_MULTIPROC_DIR": str(work / "hello-metrics"),
            # the token floor redeems the fixture's codes in the provider's database
            "BENCH_FLOOR_DATABASE_URL": url,
            "BENCH_FLOOR_ISSUER": issuer,
        }
        (work / "hello-metrics").mkdir()
        hello_port = procs.free_port()
        servers["hello"] = gunicorn("hello", "hello:app", hello_port, hello_env, work, None)
        # The token floor under the keep-alive setup too (scenario "token-floor-keepalive")
        kept_hello = {**hello_env, "PROMETHEUS_MULTIPROC_DIR": str(work / "hello-metrics-kept")}
        (work / "hello-metrics-kept").mkdir()
        servers[HELLO_KEEPALIVE] = gunicorn(
            HELLO_KEEPALIVE, "hello:app", procs.free_port(), kept_hello, work, None, KEEP_ALIVE
        )
        if with_peer:
            import peers

            peer = peers.Peer(work)
            servers["peer"] = peer.server
        for server in servers.values():
            server.wait_ready()
        if peer is not None:
            peer.sign_in()
            peer.check()
        yield Setup(backend, url, work, fixture, servers, counts_dir, peer)
    finally:
        for server in servers.values():
            server.stop()


def measure(setup: Setup, scenario: Scenario, duration: float) -> Run:
    rate = max(setup.rates.get(scenario.name, []), default=scenario.default_rate)
    needed = int(rate * duration * 2) + 500
    inputs = Inputs(setup.fixture, setup.work, setup.peer)
    params_file = setup.work / f"{scenario.name}.params"
    write_params(params_file, scenario.params(inputs, needed))
    server = setup.servers[scenario.server]
    provider = scenario.server in ("provider", PROVIDER_KEEPALIVE)
    run = wrk(
        setup.backend,
        scenario,
        server,
        duration,
        params_file,
        setup.fixture.database_pids() if provider else [],
        setup.counts_dir if provider else None,
    )
    setup.rates.setdefault(scenario.name, []).append(run.units_s)
    print(
        f"  {scenario.name:<12} {run.units_s:7.0f} {scenario.unit}s/s {run.req_s:7.0f} req/s "
        f"{run.cpu_ms:7.3f} ms CPU/{scenario.unit}  p50 {run.p50_ms:6.2f}  p99 {run.p99_ms:6.2f}"
        f"  errors {run.errors}  rss {run.peak_rss_mib:.1f}  parses {run.key_parses}"
        f"  hashes {run.slow_hashes}  cores {run.server_cores:.2f}/{run.machine_cores:.2f}"
        + (
            f"  ({run.exhausted} wrk thread(s) ran out of inputs: run cut short)"
            if run.exhausted
            else ""
        ),
        flush=True,
    )
    return run
