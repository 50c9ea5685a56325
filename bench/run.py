"""Benchmark the provider's six scenarios against a hello-world WSGI app, side by side.

``make bench`` runs this file; ``bench/README.md`` explains what it measures and how to read
the tables.  The provider and the hello-world app run under gunicorn with the production
settings on free loopback ports; ``wrk`` loads them in turn (interleaved, several
repetitions; medians) and each run records requests/s, latency, errors, the CPU the server
processes spent and their peak RSS (from /proc).  With node and ``bench/peers/`` installed,
node-oidc-provider runs scenarios 1 and 2 in the same rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import procs
import report
import report_plot
from fixture import Fixture, prepare
from procs import Server
from scenarios import THREADS, Inputs, Scenario, selected, write_params

from oidc_core import credentials, jose
from oidc_core.passwords import PasswordService

BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LUA = BENCH / "load.lua"
CONNECTIONS, WORKERS = 16, 2
PACKAGES = ("oauthlib", "josepy", "peewee", "gunicorn", "WebOb", "cryptography", "argon2-cffi")


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
    name: str, app: str, port: int, env: dict[str, str], work: Path, config: str | None
) -> Server:
    argv = [str(BIN / "gunicorn"), app, "--workers", str(WORKERS), "--worker-class", "sync"]
    argv += ["--no-control-socket", "--timeout", "30", "--bind", f"127.0.0.1:{port}"]
    argv += ["--pythonpath", str(BENCH)]
    if config:
        argv += ["--config", config]
    return Server(name, argv, port, env, work, worker_count=WORKERS)


@dataclass
class Setup:
    backend: str
    url: str
    work: Path
    fixture: Fixture
    servers: dict[str, Server]
    counts_dir: Path
    peer: Any = None  # peers.Peer when the peer runs
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
        # The floors count their requests as the provider does: in a directory of their own.
        hello_env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(work / "hello-metrics")}
        (work / "hello-metrics").mkdir()
        hello_port = procs.free_port()
        servers["hello"] = gunicorn("hello", "hello:app", hello_port, hello_env, work, None)
        if with_peer:
            import peers

            peer = peers.Peer(work)
            servers["peer"] = peer.server
        for server in servers.values():
            server.wait_ready()
        if peer is not None:
            peer.sign_in()
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
    provider = scenario.server == "provider"
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


# -- unit costs in the runner ----------------------------------------------------------


def signature_ms(fixture: Fixture, alg: str, iterations: int) -> float:
    """CPU time of one ``jose.sign_jwt`` with the provider's current ``alg`` key, in ms."""
    record = next(r for r in fixture.storage.keys.all() if r.state == "current" and r.alg == alg)
    fixture.storage.close()
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


def password_check_ms(fixture: Fixture, iterations: int) -> tuple[float, float]:
    """CPU and wall time of one password check with the configured argon2id cost, in ms."""
    service = PasswordService(fixture.settings)
    stored = service.hash(fixture.password)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(iterations):
        assert service.verify(stored, fixture.password)
    return (
        (time.process_time() - cpu) * 1000 / iterations,
        (time.perf_counter() - wall) * 1000 / iterations,
    )


# -- a backend's rounds ----------------------------------------------------------------


def rounds(setup: Setup, scenarios: list[Scenario], args: argparse.Namespace) -> dict[str, Any]:
    print(f"== {setup.backend}: warm-up", flush=True)
    warmup = [measure(setup, scenario, min(args.duration, 2)) for scenario in scenarios]
    runs: list[Run] = []
    units: dict[str, list[float]] = {"RS256": [], "ES256": [], "argon2_cpu": [], "argon2_wall": []}
    for number in range(args.repeat):
        print(f"== {setup.backend}: round {number + 1}/{args.repeat}", flush=True)
        order = scenarios if number % 2 == 0 else scenarios[::-1]
        for scenario in order:
            runs.append(measure(setup, scenario, args.duration))
        for alg in ("RS256", "ES256"):
            units[alg].append(signature_ms(setup.fixture, alg, args.sign_iterations))
        cpu, wall = password_check_ms(setup.fixture, args.hash_iterations)
        units["argon2_cpu"].append(cpu)
        units["argon2_wall"].append(wall)
        print(
            f"  RS256 signature {units['RS256'][-1]:.3f} ms, ES256 {units['ES256'][-1]:.3f} ms, "
            f"argon2id check {cpu:.1f} ms CPU / {wall:.1f} ms wall",
            flush=True,
        )
    log = setup.servers["provider"].log.read_text(errors="replace")
    return {
        "backend": setup.backend,
        "database": setup.fixture.database_version(),
        "runs": [asdict(run) for run in runs],
        "warmup": [asdict(run) for run in warmup],
        "unit_ms": {name: statistics.median(values) for name, values in units.items()},
        "database_locked": log.count("database is locked"),
        "tracebacks": log.count("Traceback"),
        "argon2": {
            "time_cost": setup.fixture.settings.password_time_cost,
            "memory_cost_kib": setup.fixture.settings.password_memory_cost,
            "parallelism": setup.fixture.settings.password_parallelism,
            "concurrency": setup.fixture.settings.password_hash_concurrency,
        },
    }


def rss_over_time(setup: Setup, scenario: Scenario, seconds: float) -> dict[str, Any]:
    """Run ``scenario`` for ``seconds`` in slices and sample every worker's RSS after each."""
    print(f"== RSS over time: {scenario.name} for {seconds:g} s", flush=True)
    server = setup.servers[scenario.server]
    slices = max(4, min(30, int(seconds // 10)))
    samples: list[dict[str, Any]] = []
    start = time.monotonic()
    errors = 0
    for _ in range(slices):
        run = measure(setup, scenario, seconds / slices)
        errors += run.errors
        samples.append(
            {
                "t": round(time.monotonic() - start, 1),
                "rss_mib": [procs.rss_mib(pid) for pid in server.workers],
                "units_s": run.units_s,
            }
        )
    return {"scenario": scenario.name, "seconds": seconds, "samples": samples, "errors": errors}


# -- main ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    head = subprocess.run(
        ["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(BENCH.parent), "diff", "--quiet", "HEAD", "--", "oidc_core", "adapters"],
        timeout=10,
    ).returncode
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return {
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "wrk": wrk_version,
        "commit": (head or "unknown") + (" with uncommitted changes" if dirty else ""),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 x 2 s, RSS 20 s")
    parser.add_argument("--duration", type=float, default=5, help="seconds per run (5)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (3)")
    parser.add_argument(
        "--rss-duration", type=float, default=300, help="seconds of the RSS run (300)"
    )
    parser.add_argument("--sign-iterations", type=int, default=1000)
    parser.add_argument("--hash-iterations", type=int, default=10)
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("BENCH_POSTGRESQL_URL"),
        help="postgresql://... (a database of your own) to run every scenario on PostgreSQL "
        "too; default $BENCH_POSTGRESQL_URL",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip node-oidc-provider")
    parser.add_argument(
        "--only",
        help="comma-separated scenario names (hello is always measured; webob-hello and frame "
        "with discovery or userinfo)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="directory for latest.md, latest.png and latest.json; default bench/results "
        "(a --quick run writes nothing unless given)",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration, args.repeat, args.sign_iterations, args.hash_iterations = 2, 1, 200, 3
        args.rss_duration = min(args.rss_duration, 20)
    return args


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    scenarios = selected(set(args.only.split(",")) if args.only else None)
    info = machine()
    print(f"machine: {info['cores']} cores, load average {' '.join(info['loadavg'])}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="oidc-bench-"))
    backends = [("sqlite", f"sqlite:///{work}/bench.db")]
    if args.postgresql:
        backends.append(("postgresql", args.postgresql))
    results: dict[str, Any] = {"machine": info, "backends": [], "rss": None, "peer": None}
    peer_ok = not args.no_peer and peers_available()
    for backend, url in backends:
        directory = work / backend
        directory.mkdir()
        with_peer = peer_ok and backend == "sqlite"
        with started(backend, url, directory, with_peer) as setup:
            measured = list(scenarios)
            if setup.peer is not None:
                measured += setup.peer.scenarios
                results["peer"] = setup.peer.describe()
            results["backends"].append(rounds(setup, measured, args))
            if backend == "sqlite" and args.rss_duration > 0:
                flow = next((s for s in scenarios if s.name == "flow"), None)
                if flow is not None:
                    results["rss"] = rss_over_time(setup, flow, args.rss_duration)
    results["settings"] = {
        "duration": args.duration,
        "repeat": args.repeat,
        "connections": CONNECTIONS,
        "threads": THREADS,
        "workers": WORKERS,
        "sign_iterations": args.sign_iterations,
        "hash_iterations": args.hash_iterations,
    }
    text, targets = report.markdown(results)
    print("\n" + text)
    output = args.output or (None if args.quick else BENCH / "results")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "latest.md").write_text(text)
        (output / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
        report_plot.plot(results, output / "latest.png")
        print(f"written to {output}/latest.md, latest.json, latest.png")
        if output.resolve() == (BENCH / "results").resolve():
            report.update_readme(BENCH / "README.md", report.readme_block(results))
            summary = "\n".join(textwrap.wrap(report.project_summary(results), 92))
            report.update_readme(BENCH.parent / "README.md", summary, marker="bench")
            print("bench/README.md and README.md: latest figures updated")
    shutil.rmtree(work, ignore_errors=True)
    failed = [name for name, passed in targets if passed is False]
    print("targets failed: " + (", ".join(failed) if failed else "none"))
    errors = sum(r["errors"] for b in results["backends"] for r in b["runs"])
    if errors:
        print(f"FAILED: {errors} bad answers or socket errors", file=sys.stderr)
    return 1 if errors else 0


def peers_available() -> bool:
    if shutil.which("node") is None:
        print("node is missing: the peer (bench/peers/) is skipped", flush=True)
        return False
    if not (BENCH / "peers" / "node_modules" / "oidc-provider").is_dir():
        print("bench/peers/node_modules is missing (npm ci in bench/peers): peer skipped")
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
