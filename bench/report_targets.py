"""The targets of issues 9 and 20, checked against the medians of a bench/run.py run.

``medians`` sums up a backend's rounds per scenario (report.py's tables read them too);
``round_ratios`` compares two scenarios round by round (ours against the peer's);
``targets`` says of each target whether it passed, with the figure it was judged on.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scenarios import BASELINES, OURS

LABELS = {s.name: s.label for s in OURS}
TOKEN_PATH = ("token", "token-es256", "refresh", "token-keepalive")
RSS_LIMIT_MIB = 80e6 / 2**20  # "under 80 MB"
RSS_GROWTH_LIMIT_MIB = 2.0
Target = tuple[str, bool | None, str]
# Ours against node-oidc-provider, like with like: (ours, the peer's, what both do).
PEER_PAIRS = (
    ("token-keepalive", "peer-token-keepalive", "token endpoint, keep-alive both sides"),
    ("token", "peer-token", "token endpoint, connections closed both sides"),
    ("flow-keepalive", "peer-flow-keepalive", "code flow, keep-alive both sides"),
    ("flow", "peer-flow", "code flow, connections closed both sides"),
)
PEER_THROUGHPUT_TARGET = 1.5  # issue 20: ours / node's units per second, at least
PEER_CPU_TARGET = 0.7  # issue 20: our server CPU per token request / node's, at most
PYTHON_PEER_TARGET = 2.0  # issue 19: ours / each Python peer's token requests per second
SIGNATURES_PER_TOKEN_TARGET = 3.5  # issue 19: CPU per token request / one RS256 signature


@dataclass(frozen=True)
class Spread:
    """A ratio computed in each round, its median and its range over the rounds."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self) -> str:
        return (
            f"{self.median:.2f} ({min(self.values):.2f}-{max(self.values):.2f}, "
            f"{len(self.values)} round{'s' if len(self.values) > 1 else ''})"
        )


def round_ratios(
    backend: dict[str, Any], ours: str, theirs: str, field: str = "units_s"
) -> Spread | None:
    """``field`` of ``ours`` over that of ``theirs`` in each round: the n-th run of one with
    the n-th of the other (each round runs every scenario once)."""
    a = [r[field] for r in backend["runs"] if r["scenario"] == ours]
    b = [r[field] for r in backend["runs"] if r["scenario"] == theirs]
    values = tuple(x / y for x, y in zip(a, b, strict=False) if y)
    return Spread(values) if values else None


def medians(backend: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per scenario: the median of every numeric field over its runs; errors and counts summed."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for run in backend["runs"]:
        by_name.setdefault(run["scenario"], []).append(run)
    out = {}
    for name, runs in by_name.items():
        row = {
            key: statistics.median(r[key] for r in runs)
            for key, value in runs[0].items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        for key in ("errors", "key_parses", "slow_hashes", "login_posts", "units", "exhausted"):
            row[key] = sum(r.get(key, 0) for r in runs)
        row["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
        row["p99_over_p50"] = statistics.median(r["p99_ms"] / r["p50_ms"] for r in runs)
        row["runs"] = len(runs)
        out[name] = row
    hello = out["hello"]["req_s"]
    for row in out.values():
        row["ratio"] = row["req_s"] / hello
    return out


def _ours(rows: dict[str, Any]) -> dict[str, Any]:
    """The provider's scenarios: not the baselines, not the peer's."""
    return {n: r for n, r in rows.items() if n in LABELS and n not in BASELINES}


def rss_summary(rss: dict[str, Any]) -> dict[str, float]:
    """Growth: the mean RSS of the last quarter of the samples minus that of the first
    quarter after the first sample (warm-up), per worker; the largest worker's."""
    samples = rss["samples"]
    workers = len(samples[0]["rss_mib"])
    body = samples[1:] if len(samples) > 4 else samples
    quarter = max(1, len(body) // 4)
    growth = []
    for w in range(workers):
        first = statistics.mean(s["rss_mib"][w] for s in body[:quarter])
        last = statistics.mean(s["rss_mib"][w] for s in body[-quarter:])
        growth.append(last - first)
    peak = max(max(s["rss_mib"]) for s in samples)
    return {"growth_mib": max(growth), "peak_mib": peak, "workers": workers}


def targets(results: dict[str, Any]) -> list[Target]:
    found: list[Target] = []
    by_backend = {b["backend"]: medians(b) for b in results["backends"]}
    units = {b["backend"]: b["unit_ms"] for b in results["backends"]}
    sqlite = by_backend.get("sqlite", {})

    def check(name: str, value: float | None, test: Callable[[float], bool], text: str) -> None:
        if value is None:
            found.append((name, None, "not measured"))
        else:
            found.append((name, test(value), text.format(value)))

    token = sqlite.get("token")
    check(
        "token endpoint >= 0.30 x hello-world on SQLite (RS256)",
        token["ratio"] if token else None,
        lambda v: v >= 0.30,
        "{:.2f}",
    )
    if token:
        sig = units["sqlite"]["RS256"]
        check(
            "CPU per token request <= 3 x one RSA-2048 signature (same run)",
            token["cpu_ms"] / sig,
            lambda v: v <= 3,
            f"{{:.1f}} x ({token['cpu_ms']:.3f} ms / {sig:.3f} ms)",
        )
    discovery = sqlite.get("discovery")
    check(
        "discovery and JWKS >= 0.8 x hello-world",
        discovery["ratio"] if discovery else None,
        lambda v: v >= 0.8,
        "{:.2f}",
    )
    userinfo = sqlite.get("userinfo")
    check(
        "userinfo >= 0.5 x hello-world",
        userinfo["ratio"] if userinfo else None,
        lambda v: v >= 0.5,
        "{:.2f}",
    )
    for backend, rows in by_backend.items():
        ours = _ours(rows)
        worst = max(ours, key=lambda n: ours[n]["p99_over_p50"])
        found.append(
            (
                f"p99 <= 3 x p50 at 16 connections ({backend}, every scenario)",
                all(r["p99_over_p50"] <= 3 for r in ours.values()),
                ", ".join(f"{n} {r['p99_over_p50']:.1f}" for n, r in ours.items())
                + f" (worst: {worst})",
            )
        )
        errors = sum(r["errors"] for n, r in rows.items() if n in LABELS)
        found.append((f"zero errors ({backend}, ours and the baselines)", errors == 0, f"{errors}"))
    for b in results["backends"]:
        found.append(
            (
                f'zero "database is locked" ({b["backend"]})',
                b["database_locked"] == 0,
                f"{b['database_locked']} in the provider's log",
            )
        )
    for backend, rows in by_backend.items():
        parses = sum(rows[n]["key_parses"] for n in TOKEN_PATH if n in rows)
        hashes = sum(rows[n]["slow_hashes"] for n in TOKEN_PATH if n in rows)
        requests = sum(rows[n]["units"] for n in TOKEN_PATH if n in rows)
        found.append(
            (
                f"zero key parses and zero slow hashes on the token path ({backend})",
                parses == 0 and hashes == 0 if requests else None,
                f"{parses} key parses, {hashes} slow hashes in {requests} token requests",
            )
        )
    login = sqlite.get("login")
    if login:
        argon2 = units["sqlite"]["argon2_cpu"]
        posts = max(login["login_posts"], 1)
        hashes = login["slow_hashes"] / posts
        # CPU per login form served: also the forms whose answer came after wrk stopped
        cpu = login["cpu_ms"] * login["units"] / posts
        share = hashes * argon2 / cpu
        found.append(
            (
                "password login bounded by the argon2 cost: one hash per login, and the hash "
                ">= 70 % of the login's server CPU",
                abs(hashes - 1) < 0.01 and share >= 0.7,
                f"{hashes:.2f} hashes per login form served; argon2id {argon2:.1f} ms of "
                f"{cpu:.1f} ms server CPU per login ({share:.0%})",
            )
        )
    postgres = by_backend.get("postgresql", {}).get("token")
    check(
        "PostgreSQL token throughput >= 0.7 x SQLite's (ratios to hello-world of each run)",
        postgres["ratio"] / token["ratio"] if postgres and token else None,
        lambda v: v >= 0.7,
        "{:.2f}"
        + (f" ({postgres['ratio']:.2f} / {token['ratio']:.2f})" if postgres and token else ""),
    )
    rss = results.get("rss")
    if rss:
        summary = rss_summary(rss)
        found.append(
            (
                f"RSS per worker flat over a {rss['seconds']:g} s run (code flow, SQLite)",
                summary["growth_mib"] <= RSS_GROWTH_LIMIT_MIB,
                f"growth {summary['growth_mib']:+.1f} MiB (limit +{RSS_GROWTH_LIMIT_MIB:g}), "
                f"peak {summary['peak_mib']:.1f} MiB",
            )
        )
    else:
        found.append(("RSS per worker flat over a long run", None, "not measured"))
    for backend, rows in by_backend.items():
        peaks = {n: r["peak_rss_mib"] for n, r in _ours(rows).items()}
        largest = max(peaks, key=lambda n: peaks[n])
        found.append(
            (
                f"peak RSS per worker under 80 MB ({backend}, every scenario)",
                peaks[largest] < RSS_LIMIT_MIB,
                f"largest {peaks[largest]:.1f} MiB ({largest}); limit {RSS_LIMIT_MIB:.1f} MiB",
            )
        )
    peer = sqlite.get("peer-token")
    check(
        "at least parity with node-oidc-provider on the token endpoint (RS256)",
        token["req_s"] / peer["req_s"] if peer and token and peer["req_s"] else None,
        lambda v: v >= 1.0,
        "{:.2f} x its throughput",
    )
    return found + peer_targets(results) + python_peer_targets(results)


def peer_targets(results: dict[str, Any]) -> list[Target]:
    """Issue 20: ours against node-oidc-provider in the same rounds, each ratio computed
    per round; judged on the median of the rounds."""
    sqlite = next((b for b in results["backends"] if b["backend"] == "sqlite"), None)
    found: list[Target] = []
    for ours, theirs, what in PEER_PAIRS:
        spread = round_ratios(sqlite, ours, theirs) if sqlite else None
        found.append(
            (
                f"{what}: >= {PEER_THROUGHPUT_TARGET} x node-oidc-provider's throughput (issue 20)",
                spread.median >= PEER_THROUGHPUT_TARGET if spread else None,
                spread.text() if spread else "not measured",
            )
        )
    for ours, theirs, what in PEER_PAIRS[:2]:
        spread = round_ratios(sqlite, ours, theirs, "cpu_ms") if sqlite else None
        found.append(
            (
                f"CPU per token request <= {PEER_CPU_TARGET} x node-oidc-provider's "
                f"({what.removeprefix('token endpoint, ')}; issue 20)",
                spread.median <= PEER_CPU_TARGET if spread else None,
                spread.text() if spread else "not measured",
            )
        )
    return found


def python_peer_targets(results: dict[str, Any]) -> list[Target]:
    """Issue 19: the token endpoint against each Python peer on each backend (ratios per
    round, judged on their median), and its CPU in RS256 signatures."""
    found: list[Target] = []
    for backend in results["backends"]:
        for peer in backend.get("python_peers") or []:
            spread = round_ratios(backend, "token", f"{peer['name']}-token")
            found.append(
                (
                    f"token endpoint >= {PYTHON_PEER_TARGET:g} x {peer['title']}'s throughput "
                    f"({backend['backend']}; issue 19)",
                    spread.median >= PYTHON_PEER_TARGET if spread else None,
                    spread.text() if spread else "not measured",
                )
            )
    sqlite = next((b for b in results["backends"] if b["backend"] == "sqlite"), None)
    if sqlite is not None:
        rows = medians(sqlite)
        sig = sqlite["unit_ms"]["RS256"]
        for name, setup in (("token", "sync workers"), ("token-keepalive", "keep-alive setup")):
            if name in rows:
                value = rows[name]["cpu_ms"] / sig
                floor = rows.get(name.replace("token", "token-floor", 1))
                found.append(
                    (
                        f"CPU per token request <= {SIGNATURES_PER_TOKEN_TARGET:g} x one RS256 "
                        f"signature ({setup}; issue 19)",
                        value <= SIGNATURES_PER_TOKEN_TARGET,
                        f"{value:.1f} x ({rows[name]['cpu_ms']:.3f} ms / {sig:.3f} ms)"
                        + (f"; the token floor {floor['cpu_ms'] / sig:.1f} x" if floor else ""),
                    )
                )
    return found
