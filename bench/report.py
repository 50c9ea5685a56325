"""The tables, the targets of issue 9 and the plot of a bench/run.py run."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scenarios import BASELINES, OURS

LABELS = {s.name: s.label for s in OURS}
UNITS = {s.name: s.unit for s in OURS} | {"peer-flow": "flow"}
TOKEN_PATH = ("token", "token-es256", "refresh")
PAIRS = (
    ("token", "peer-token"),
    ("token-es256", "peer-token-es256"),
    ("flow", "peer-flow"),
    ("token", "peer-token-keepalive"),
)
RSS_LIMIT_MIB = 80e6 / 2**20  # "under 80 MB"
RSS_GROWTH_LIMIT_MIB = 2.0
PEER_LABELS = {
    "peer-token": "peer: token endpoint (RS256)",
    "peer-token-es256": "peer: token endpoint (ES256)",
    "peer-token-keepalive": "peer: token endpoint (RS256), connections kept alive",
    "peer-flow": "peer: code flow",
}
Target = tuple[str, bool | None, str]


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


def _table(backend: dict[str, Any], labels: dict[str, str], units: dict[str, str]) -> list[str]:
    rows = medians(backend)
    sig = backend["unit_ms"]["RS256"]
    postgres = backend["backend"] == "postgresql"
    lines = [
        "| scenario | unit | units/s | req/s | ratio to hello | server CPU/unit (ms) "
        + ("| PostgreSQL CPU/unit (ms) " if postgres else "")
        + "| x RS256 sig | p50 (ms) | p99 (ms) | p99/p50 | errors | peak RSS/worker (MiB) "
        "| key parses | slow hashes |",
        "|---|---|--:|--:|--:|--:|"
        + ("--:|" if postgres else "")
        + "--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {labels.get(name, name)} | {units.get(name, 'request')} | {row['units_s']:.0f} "
            f"| {row['req_s']:.0f} | **{row['ratio']:.2f}** | {row['cpu_ms']:.3f} "
            + (f"| {row['db_cpu_ms']:.3f} " if postgres else "")
            + f"| {row['cpu_ms'] / sig:.1f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
            f"| {row['p99_over_p50']:.1f} | {row['errors']} | {row['peak_rss_mib']:.1f} "
            f"| {row['key_parses'] if _counted(name) else '-'} "
            f"| {row['slow_hashes'] if _counted(name) else '-'} |"
        )
    return lines


def _paragraph(text: str) -> list[str]:
    return [text, ""] if text else []


def _counted(name: str) -> bool:
    """Key parses and slow hashes are counted in the provider's workers only."""
    return name not in BASELINES and "peer" not in name


def _ours(rows: dict[str, Any]) -> dict[str, Any]:
    """The provider's scenarios: not the baselines, not the peer's."""
    return {n: r for n, r in rows.items() if n in LABELS and n not in BASELINES}


def floor_sentence(rows: dict[str, dict[str, float]]) -> str:
    """What the floors measured in these rounds say about the cheapest endpoints."""
    if "frame" not in rows:
        return ""
    frame, hello = rows["frame"], rows["hello"]
    webob = rows.get("webob-hello")
    text = (
        "Floors: "
        + (f"hello-world through WebOb {webob['ratio']:.2f} x hello-world; " if webob else "")
        + f"the provider's per-request frame with no endpoint **{frame['ratio']:.2f} x** "
        f"(server CPU per request {frame['cpu_ms']:.3f} ms, hello-world's "
        f"{hello['cpu_ms']:.3f} ms)"
    )
    for name, label, add in (
        ("discovery", "discovery and JWKS", "add"),
        ("userinfo", "userinfo", "adds"),
    ):
        row = rows.get(name)
        if row is None:
            continue
        added = row["cpu_ms"] - hello["cpu_ms"]
        share = (frame["cpu_ms"] - hello["cpu_ms"]) / added if added > 0 else float("nan")
        text += (
            f"; {label} **{row['req_s'] / frame['req_s']:.2f} x the frame** (the frame makes "
            f"{share:.0%} of the server CPU per request {label} {add} to hello-world's)"
        )
    return text + "."


def _runs_table(backend: dict[str, Any]) -> list[str]:
    lines = [
        "| # | scenario | units/s | req/s | server CPU/unit (ms) | p50 (ms) | p99 (ms) | errors "
        "| cores: server | cores: machine | note |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for number, r in enumerate(backend["runs"], 1):
        note = f"{r['exhausted']} wrk thread(s) ran out of inputs" if r.get("exhausted") else ""
        lines.append(
            f"| {number} | {r['scenario']} | {r['units_s']:.0f} | {r['req_s']:.0f} "
            f"| {r['cpu_ms']:.3f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} "
            f"| {r['server_cores']:.2f} | {r['machine_cores']:.2f} | {note} |"
        )
    return lines


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
        errors = sum(r["errors"] for n, r in rows.items() if not n.startswith("peer"))
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
    return found


def _rss_before_login(backend: dict[str, Any]) -> str:
    """The warm-up runs in their first order: the workers' peaks before the first login."""
    before = []
    for run in backend.get("warmup", []):
        if run["scenario"] == "login":
            break
        if _counted(run["scenario"]):
            before.append(f"{run['scenario']} {run['peak_rss_mib']:.1f}")
    return (
        "Peak RSS per worker in the warm-up, before the first password login (MiB): "
        + ", ".join(before)
        + ". A login's argon2id hash allocates its memory cost (m above, up to the concurrency "
        "bound at once per worker); the C allocator keeps that memory in the worker "
        "afterwards, so every later run shows it."
    )


def _peer_lines(results: dict[str, Any]) -> list[str]:
    peer = results.get("peer")
    sqlite = next((b for b in results["backends"] if b["backend"] == "sqlite"), None)
    if not peer or sqlite is None:
        return []
    rows = medians(sqlite)
    lines = [
        "## Peer: node-oidc-provider, same machine, same rounds",
        "",
        f"{peer['description']}",
        "",
        "| peer's scenario | ours: units/s | peer: units/s | ours / peer (throughput) "
        "| ours: CPU/unit (ms) | peer: CPU/unit (ms) | peer / ours (CPU per unit) "
        "| ours: cores used | peer: cores used |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for ours, theirs in PAIRS:
        if ours in rows and theirs in rows and rows[theirs]["units_s"] and rows[ours]["cpu_ms"]:
            a, b = rows[ours], rows[theirs]
            lines.append(
                f"| {PEER_LABELS[theirs]} | {a['units_s']:.0f} | {b['units_s']:.0f} "
                f"| **{a['units_s'] / b['units_s']:.2f}** | {a['cpu_ms']:.3f} | {b['cpu_ms']:.3f} "
                f"| **{b['cpu_ms'] / a['cpu_ms']:.2f}** | {a['server_cores']:.2f} "
                f"| {b['server_cores']:.2f} |"
            )
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> tuple[str, list[tuple[str, bool | None]]]:
    m = results["machine"]
    s = results["settings"]
    found = targets(results)
    versions = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    labels = dict(LABELS, **PEER_LABELS)
    lines = [
        "# oidc-core benchmark",
        "",
        f"- Date: {m['date']}; `{m['command']}`; oidc-core commit {m['commit']}",
        f"- Machine: {m['cores']} cores ({m['cpu']}), load average at start "
        f"{' '.join(m['loadavg'])}; {m['platform']}; Python {m['python']}; {versions}; "
        f"wrk {m['wrk']}",
        f"- Load: `wrk -t{s['threads']} -c{s['connections']}` on loopback, {s['repeat']} rounds x "
        f"{s['duration']:g} s per scenario, interleaved (every other round in reverse order), "
        f"medians; gunicorn {s['workers']} sync workers for the provider and hello-world; the "
        "load generator shares the cores",
        "- Ratio: requests/s of the scenario over requests/s of hello-world in the same rounds. "
        "Units: a flow is 3 requests (authorize, token, userinfo), a login 3 requests "
        "(authorize, login page, login form); CPU per unit is the server's (gunicorn master "
        "and workers, /proc) per flow or login",
        "",
        "## Targets (issue 9)",
        "",
        "| target | result | figure |",
        "|---|---|---|",
    ]
    for name, passed, detail in found:
        verdict = {True: "pass", False: "**FAIL**", None: "not measured"}[passed]
        lines.append(f"| {name} | {verdict} | {detail} |")
    lines.append("")
    for backend in results["backends"]:
        u = backend["unit_ms"]
        a = backend["argon2"]
        lines += [
            f"## {backend['database']}",
            "",
            f"Measured in the runner process in the same rounds (medians): one RS256 signature "
            f"(`jose.sign_jwt`, RSA-2048) **{u['RS256']:.3f} ms CPU**, one ES256 signature "
            f"{u['ES256']:.3f} ms, one password check (argon2id t={a['time_cost']}, "
            f"m={a['memory_cost_kib']} KiB, p={a['parallelism']}) {u['argon2_cpu']:.1f} ms CPU "
            f"({u['argon2_wall']:.1f} ms wall); at most {a['concurrency']} hashes at once per "
            "worker.",
            "",
            *_table(backend, labels, UNITS),
            "",
            *_paragraph(floor_sentence(medians(backend))),
            f'"database is locked" in the provider\'s log: {backend["database_locked"]}; '
            f"tracebacks: {backend['tracebacks']}.",
            "",
            _rss_before_login(backend),
            "",
        ]
    lines += _peer_lines(results)
    rss = results.get("rss")
    if rss:
        summary = rss_summary(rss)
        lines += [
            f"## RSS over time ({LABELS.get(rss['scenario'], rss['scenario'])}, SQLite, "
            f"{rss['seconds']:g} s)",
            "",
            f"Largest growth of a worker (mean of the last quarter of the samples minus the first "
            f"quarter after warm-up): {summary['growth_mib']:+.2f} MiB; peak "
            f"{summary['peak_mib']:.1f} MiB; errors {rss['errors']}.",
            "",
            "| t (s) | RSS per worker (MiB) | flows/s |",
            "|--:|---|--:|",
            *(
                f"| {x['t']:.0f} | {', '.join(f'{v:.1f}' for v in x['rss_mib'])} "
                f"| {x['units_s']:.0f} |"
                for x in rss["samples"]
            ),
            "",
        ]
    for backend in results["backends"]:
        lines += [
            f"## Runs: {backend['backend']}",
            "",
            "Cores: CPU time over wall time, of the server and of the whole machine (the load "
            "generator, the database and anything else running count in the latter).",
            "",
            *_runs_table(backend),
            "",
        ]
    return "\n".join(lines), [(name, passed) for name, passed, _ in found]


def readme_block(results: dict[str, Any]) -> str:
    """The short summary bench/README.md quotes: ratios, CPU per unit, the machine."""
    m = results["machine"]
    backends = results["backends"]
    rows = {b["backend"]: medians(b) for b in backends}
    names = [s.name for s in OURS]
    heads = " | ".join(f"ratio {b['backend']}" for b in backends)
    lines = [
        f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}), load average at start "
        f"{m['loadavg'][0]}, Python {m['python']}, commit {m['commit']}; "
        f"{results['settings']['repeat']} rounds x {results['settings']['duration']:g} s, "
        "medians. Ratio: requests/s over hello-world's in the same rounds.",
        "",
        f"| scenario | {heads} | server CPU/unit (ms, SQLite) | x RS256 signature |",
        "|---|" + "--:|" * (len(backends) + 2),
    ]
    sig = backends[0]["unit_ms"]["RS256"]
    first = rows[backends[0]["backend"]]
    for name in names:
        if name not in first:
            continue
        ratios = " | ".join(
            f"{rows[b['backend']][name]['ratio']:.2f}" if name in rows[b["backend"]] else "-"
            for b in backends
        )
        lines.append(
            f"| {LABELS[name]} | {ratios} | {first[name]['cpu_ms']:.2f} "
            f"| {first[name]['cpu_ms'] / sig:.1f} |"
        )
    found = targets(results)
    passed = sum(1 for _, ok, _ in found if ok)
    failed = [name for name, ok, _ in found if ok is False]
    lines += [
        "",
        *_paragraph(floor_sentence(first)),
        f"One RS256 signature: {sig:.3f} ms CPU. Targets: {passed} of {len(found)} pass; "
        "failing: " + ("; ".join(failed) if failed else "none") + ".",
    ]
    peer = results.get("peer")
    if peer and "peer-token" in first and "token" in first:
        lines.append(
            f"Against node-oidc-provider {peer['oidc-provider']} (in memory, one process, "
            f"connections closed like ours): token endpoint "
            f"{first['token']['units_s'] / first['peer-token']['units_s']:.2f} x its "
            "throughput"
            + (
                f", code flow {first['flow']['units_s'] / first['peer-flow']['units_s']:.2f} x"
                if "flow" in first and "peer-flow" in first
                else ""
            )
            + "."
        )
    return "\n".join(lines)


def project_summary(results: dict[str, Any]) -> str:
    """The few figures the project's README quotes (between its ``bench`` markers)."""
    m = results["machine"]
    first = medians(results["backends"][0])
    found = targets(results)
    passed = sum(1 for _, ok, _ in found if ok)

    def ratio(name: str) -> str:
        return f"{first[name]['ratio']:.2f}" if name in first else "-"

    text = (
        f"Measured with `make bench` on {m['date'][:10]}, {m['cores']} cores ({m['cpu']}), "
        "SQLite, gunicorn with one sync worker per core; throughput as a ratio to a "
        "hello-world WSGI app under the same gunicorn in the same rounds: token endpoint "
        f"(code grant, RS256 ID token, refresh token) {ratio('token')}, userinfo "
        f"{ratio('userinfo')}, discovery and JWKS {ratio('discovery')}"
    )
    if "peer-token" in first and "token" in first:
        peer = first["token"]["units_s"] / first["peer-token"]["units_s"]
        text += f"; the token endpoint serves {peer:.2f} x node-oidc-provider's throughput"
    return text + f". {passed} of {len(found)} targets met: [bench/README.md](bench/README.md)."


def update_readme(path: Path, block: str, marker: str = "latest") -> None:
    """Replace what stands between the ``marker`` markers of ``path``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = path.read_text()
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{block}\n{end}{tail}")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if results.get("rss") else 2
    fig, axes = plt.subplots(panels, 1, figsize=(11, 4 * panels))
    names = [s.name for s in OURS if s.name not in BASELINES]  # the frame: a dashed line
    peer = any("peer-token" in medians(b) for b in results["backends"])
    series = len(results["backends"]) + (1 if peer else 0)
    width = 0.8 / max(series, 1)
    for i, backend in enumerate(results["backends"]):
        rows = medians(backend)
        present = [n for n in names if n in rows]
        xs = [names.index(n) + i * width for n in present]
        bars = axes[0].bar(xs, [rows[n]["ratio"] for n in present], width, label=backend["backend"])
        axes[1].bar(xs, [rows[n]["cpu_ms"] for n in present], width, label=backend["backend"])
        if "frame" in rows and bars.patches:
            label = f"the provider's frame, no endpoint ({backend['backend']})"
            color = bars.patches[0].get_facecolor()
            for ax, key in ((axes[0], "ratio"), (axes[1], "cpu_ms")):
                ax.axhline(rows["frame"][key], color=color, linestyle="--", label=label)
        for ours, theirs in PAIRS:
            if theirs in rows and theirs != "peer-token-keepalive":  # one bar per slot
                x = names.index(ours) + (series - 1) * width
                label = "node-oidc-provider (in memory)" if ours == "token" else None
                axes[0].bar([x], [rows[theirs]["ratio"]], width, color="grey", label=label)
                axes[1].bar([x], [rows[theirs]["cpu_ms"]], width, color="grey", label=label)
    ticks = [n + (series - 1) * width / 2 for n in range(len(names))]
    for ax in axes[:2]:
        ax.set_xticks(ticks, names)
        ax.legend()
    axes[0].set_ylabel("requests/s over hello-world's")
    axes[0].axhline(1.0, color="black", linewidth=0.5)
    axes[0].set_title(
        f"oidc-core vs hello-world, {results['machine']['cores']} cores, "
        f"{results['machine']['date']}"
    )
    axes[1].set_ylabel("server CPU per unit (ms)")
    axes[1].set_yscale("log")
    if results.get("rss"):
        samples = results["rss"]["samples"]
        for w in range(len(samples[0]["rss_mib"])):
            axes[2].plot(
                [s["t"] for s in samples], [s["rss_mib"][w] for s in samples], label=f"worker {w}"
            )
        axes[2].axhline(RSS_LIMIT_MIB, color="red", linewidth=0.5, label="80 MB")
        axes[2].set_xlabel("seconds")
        axes[2].set_ylabel("RSS (MiB)")
        peak = max(max(s["rss_mib"]) for s in samples)
        axes[2].set_ylim(0, max(peak, RSS_LIMIT_MIB) * 1.15)
        axes[2].legend()
        axes[2].set_title("RSS per provider worker under the code flow (SQLite)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
