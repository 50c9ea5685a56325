"""Benchmark the provider's six scenarios against a hello-world WSGI app, side by side.

``make bench`` runs this file; ``bench/README.md`` explains what it measures and how to read
the tables.  The provider and the hello-world app run under gunicorn with the production
settings on free loopback ports; ``wrk`` loads them in turn (interleaved, several
repetitions; medians) and each run records requests/s, latency, errors, the CPU the server
processes spent and their peak RSS (from /proc).  With node and ``bench/peers/`` installed,
node-oidc-provider runs scenarios 1 and 2 in the same rounds; with their virtualenvs
(``make bench``), django-oauth-toolkit (twice: its default hashed client secret and the
secret in clear) and Authlib run scenarios 1, 2 and 4, on each backend (bench/python_peers.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import procs
import python_peers
import report
import report_plot
from fixture import Fixture
from harness import (
    BENCH,
    CONNECTIONS,
    KEEP_ALIVE,
    SYNC,
    WORKERS,
    Run,
    Setup,
    measure,
    started,
)
from scenarios import PROVIDER_KEEPALIVE, THREADS, Scenario, selected

from oidc_core import credentials, jose
from oidc_core.passwords import PasswordService

PACKAGES = ("oauthlib", "josepy", "peewee", "gunicorn", "WebOb", "cryptography", "argon2-cffi")


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


def timed(setup: Setup, scenario: Scenario, duration: float) -> Run:
    run = measure(setup, scenario, duration)
    if scenario.server in {other.kind.name for other in setup.python_peers}:
        python_peers.settle(setup.servers[scenario.server])  # requests queued past wrk's end
    return run


def rounds(setup: Setup, scenarios: list[Scenario], args: argparse.Namespace) -> dict[str, Any]:
    print(f"== {setup.backend}: warm-up", flush=True)
    warmup = [timed(setup, scenario, min(args.duration, 2)) for scenario in scenarios]
    runs: list[Run] = []
    units: dict[str, list[float]] = {"RS256": [], "ES256": [], "argon2_cpu": [], "argon2_wall": []}
    for number in range(args.repeat):
        print(f"== {setup.backend}: round {number + 1}/{args.repeat}", flush=True)
        order = scenarios if number % 2 == 0 else scenarios[::-1]
        for scenario in order:
            runs.append(timed(setup, scenario, args.duration))
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
    cpu = cpu_info()
    return {
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "cores": os.cpu_count(),
        "cpu": cpu.get("model name", "unknown CPU"),
        # the model name can be as short as "AMD EPYC": the family, model and stepping
        # tell the generations apart, the clock the day's speed
        "cpu_detail": f"{cpu.get('model name', 'unknown CPU')} (family "
        f"{cpu.get('cpu family', '?')}, model {cpu.get('model', '?')}, stepping "
        f"{cpu.get('stepping', '?')}, {cpu.get('cpu MHz', '?')} MHz)",
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "wrk": wrk_version,
        "commit": (head or "unknown") + (" with uncommitted changes" if dirty else ""),
    }


def cpu_info() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


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
        "--report",
        type=Path,
        help="write the reports of an earlier run (its latest.json) again, without running",
    )
    parser.add_argument(
        "--no-python-peers",
        action="store_true",
        help="skip django-oauth-toolkit and Authlib (bench/peers_python/)",
    )
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
    if args.report:  # the reports of an earlier run, written again
        results = json.loads(args.report.read_text())
        write_reports(results, args.output or BENCH / "results")
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    only = set(args.only.split(",")) if args.only else None
    scenarios = selected(only)
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
        with contextlib.ExitStack() as stack:
            setup = stack.enter_context(started(backend, url, directory, with_peer))
            if not args.no_python_peers:
                stack.enter_context(python_peers.running(setup, only))
            measured = list(scenarios)
            if setup.peer is not None:
                measured += setup.peer.scenarios
                results["peer"] = setup.peer.describe()
            measured += [
                s for other in setup.python_peers if not other.broken for s in other.scenarios
            ]
            results["backends"].append(rounds(setup, measured, args))
            results["backends"][-1]["python_peers"] = [o.describe() for o in setup.python_peers]
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
        "setups": {"provider": SYNC.describe(), PROVIDER_KEEPALIVE: KEEP_ALIVE.describe()},
        "sign_iterations": args.sign_iterations,
        "hash_iterations": args.hash_iterations,
    }
    targets = write_reports(results, args.output or (None if args.quick else BENCH / "results"))
    shutil.rmtree(work, ignore_errors=True)
    failed = [name for name, passed in targets if passed is False]
    print("targets failed: " + (", ".join(failed) if failed else "none"))
    # The Python peers' errors are in their rows, not in the exit status: the hashed DOT
    # (a few requests/s on 16 connections) can reach wrk's 5 s timeout on a busy machine.
    runs = [r for b in results["backends"] for r in b["runs"]]
    errors = sum(r["errors"] for r in runs if not python_peers.owns(r["scenario"]))
    if peer_errors := sum(r["errors"] for r in runs) - errors:
        print(f"the Python peers: {peer_errors} bad answers, socket errors or timeouts")
    if errors:
        print(f"FAILED: {errors} bad answers or socket errors", file=sys.stderr)
    return 1 if errors else 0


def write_reports(results: dict[str, Any], output: Path | None) -> list[tuple[str, bool | None]]:
    """Print the report; write latest.md, latest.json and latest.png to ``output`` (None:
    nowhere) and, for bench/results, the figures quoted by bench/README.md and README.md.
    The targets with their verdicts."""
    text, targets = report.markdown(results)
    print("\n" + text)
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
    return targets


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
