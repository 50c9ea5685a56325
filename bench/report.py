"""The tables of a bench/run.py run (latest.md) and the summaries the READMEs quote.

The targets of issue 9 and the medians they and the tables read: report_targets.py; the
plot (latest.png): report_plot.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_targets import (
    LABELS,
    PEER_PAIRS,
    medians,
    round_ratios,
    rss_summary,
    targets,
)
from scenarios import BASELINES, OURS

UNITS = {s.name: s.unit for s in OURS} | {
    f"{peer}-flow": "flow" for peer in ("peer", "dot", "dot-clear", "authlib")
} | {"peer-flow-keepalive": "flow"}  # fmt: skip
# Like with like: ours under sync workers against the peer with connections closed, ours
# under the keep-alive setup against the peer with connections kept alive.
PAIRS = (
    *((ours, theirs) for ours, theirs, _ in PEER_PAIRS),
    ("token-es256", "peer-token-es256"),
)
PEER_LABELS = {
    "peer-token": "peer: token endpoint (RS256), connections closed",
    "peer-token-es256": "peer: token endpoint (ES256), connections closed",
    "peer-token-keepalive": "peer: token endpoint (RS256), connections kept alive",
    "peer-flow": "peer: code flow, connections closed",
    "peer-flow-keepalive": "peer: code flow, connections kept alive",
}


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
    return name in LABELS and name not in BASELINES


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


def token_floor_sentence(rows: dict[str, dict[str, float]], signature_ms: float) -> str:
    """The token endpoint against the least a token request can cost on this stack, in
    each server setup measured."""
    parts = []
    for floor_name, token_name, setup in (
        ("token-floor", "token", "sync workers"),
        ("token-floor-keepalive", "token-keepalive", "keep-alive setup"),
    ):
        floor, token = rows.get(floor_name), rows.get(token_name)
        if floor is None or token is None:
            continue
        parts.append(
            f"{setup}: the floor **{floor['cpu_ms']:.3f} ms** of server CPU per request "
            f"({floor['cpu_ms'] / signature_ms:.1f} x one RS256 signature, "
            f"{floor['req_s']:.0f} requests/s), the token endpoint {token['cpu_ms']:.3f} ms, "
            f"**{token['cpu_ms'] / floor['cpu_ms']:.2f} x the floor** "
            f"(+{token['cpu_ms'] - floor['cpu_ms']:.3f} ms)"
        )
    if not parts:
        return ""
    return (
        "The token floor (`bench/token_floor.py`: the same codes in the same database, "
        "prebuilt SQL, one transaction, one RS256 signature, no framework, oauthlib, access "
        "line or metrics), and what the provider adds to it for its features and its "
        "libraries: " + "; ".join(parts) + "."
    )


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
    setups = results["settings"].get("setups", {})
    lines = [
        "## Peer: node-oidc-provider, same machine, same rounds",
        "",
        f"{peer['description']}",
        "",
        "Ours with connections closed: " + setups.get("provider", "sync workers") + "; ours "
        "with connections kept alive: " + setups.get("provider-keepalive", "-") + ". Each "
        "ratio is computed in every round from ours and the peer's run of that round: the "
        "median of the rounds, then their range.",
        "",
        "| peer's scenario | ours: units/s | peer: units/s | ours / peer (throughput) "
        "| ours: CPU/unit (ms) | peer: CPU/unit (ms) | ours / peer (CPU per unit) "
        "| ours: p99 (ms) | peer: p99 (ms) | ours: cores used | peer: cores used |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for ours, theirs in PAIRS:
        speed = round_ratios(sqlite, ours, theirs)
        cpu = round_ratios(sqlite, ours, theirs, "cpu_ms")
        if ours in rows and theirs in rows and speed and cpu:
            a, b = rows[ours], rows[theirs]
            lines.append(
                f"| {PEER_LABELS[theirs]} | {a['units_s']:.0f} | {b['units_s']:.0f} "
                f"| **{speed.text()}** | {a['cpu_ms']:.3f} | {b['cpu_ms']:.3f} "
                f"| **{cpu.text()}** | {a['p99_ms']:.2f} | {b['p99_ms']:.2f} "
                f"| {a['server_cores']:.2f} | {b['server_cores']:.2f} |"
            )
    return [*lines, ""]


def peer_sentence(results: dict[str, Any]) -> str:
    """Ours against node-oidc-provider, like with like, with the CPU and the signature's cost
    that say what kind of machine and day it was."""
    peer = results.get("peer")
    sqlite = next((b for b in results["backends"] if b["backend"] == "sqlite"), None)
    if not peer or sqlite is None:
        return ""
    spreads = [(what, round_ratios(sqlite, ours, theirs)) for ours, theirs, what in PEER_PAIRS]
    cpu = round_ratios(sqlite, "token-keepalive", "peer-token-keepalive", "cpu_ms")
    found = [f"{what} **{spread.text()}**" for what, spread in spreads if spread]
    if not found:
        return ""
    return (
        f"Against node-oidc-provider {peer['oidc-provider']} (in memory, one process), ours / "
        "its throughput, median of the rounds (range): "
        + "; ".join(found)
        + (f"; CPU per token request (keep-alive) {cpu.text()} x its own" if cpu else "")
        + f". {machine_line(results)}."
    )


def machine_line(results: dict[str, Any]) -> str:
    """The CPU and what one RS256 signature cost on it: runs of different days compare."""
    m = results["machine"]
    sig = results["backends"][0]["unit_ms"]["RS256"]
    return f"CPU: {m.get('cpu_detail', m['cpu'])}; one RS256 signature {sig:.3f} ms CPU"


def _python_peer_lines(results: dict[str, Any]) -> list[str]:
    """django-oauth-toolkit and Authlib (bench/python_peers.py) against ours, per backend."""
    lines = []
    for backend in results["backends"]:
        described = backend.get("python_peers") or []
        if not described:
            continue
        rows = medians(backend)
        lines += [
            f"## Python peers on {backend['database']}, same machine, same rounds",
            "",
            "Each on a database of its own on this backend; each passed a check before it "
            "was timed (authorize, code, token with the client's credentials; the ID token "
            "verified with PyJWT against its JWKS, iss, aud, nonce; the code refused when "
            "replayed). Server CPU excludes PostgreSQL's, for ours and theirs. Ours runs "
            "under the same gunicorn sync workers as the peers. Each ratio is computed in "
            "each round and given as the median of the rounds (range, rounds).",
            "",
        ]
        lines += [f"- {peer['description']}" for peer in described]
        lines += [
            f"- **{peer['title']} is broken, not timed**: {peer['broken']}"
            for peer in described
            if peer["broken"]
        ]
        lines += [
            "",
            "| peer's scenario | ours: units/s | peer: units/s | ours / peer (throughput) "
            "| ours: CPU/unit (ms) | peer: CPU/unit (ms) | peer / ours (CPU per unit) |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for peer in described:
            for ours in ("token", "flow", "userinfo"):
                theirs = f"{peer['name']}-{ours}"
                a, b = rows.get(ours), rows.get(theirs)
                rate = round_ratios(backend, ours, theirs)
                cpu = round_ratios(backend, theirs, ours, "cpu_ms")
                if a and b and rate and cpu:
                    lines.append(
                        f"| {peer['title']}: {LABELS.get(ours, ours)} | {a['units_s']:.0f} "
                        f"| {b['units_s']:.0f} | **{rate.text()}** "
                        f"| {a['cpu_ms']:.3f} | {b['cpu_ms']:.3f} | **{cpu.text()}** |"
                    )
        lines.append("")
    return lines


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
        f"- {machine_line(results)} (`jose.sign_jwt`, RSA-2048, median of the rounds)",
        f"- Machine: {m['cores']} cores ({m['cpu']}), load average at start "
        f"{' '.join(m['loadavg'])}; {m['platform']}; Python {m['python']}; {versions}; "
        f"wrk {m['wrk']}",
        f"- Load: `wrk -t{s['threads']} -c{s['connections']}` on loopback, {s['repeat']} rounds x "
        f"{s['duration']:g} s per scenario, interleaved (every other round in reverse order), "
        f"medians; the provider and hello-world under gunicorn with "
        f"{s.get('setups', {}).get('provider', str(s['workers']) + ' sync workers')}; the "
        'scenarios "(connections kept alive)" against the provider under '
        f"{s.get('setups', {}).get('provider-keepalive', '-')}, wrk keeping its connections "
        "open; the load generator shares the cores",
        "- Ratio: requests/s of the scenario over requests/s of hello-world in the same rounds. "
        "Units: a flow is 3 requests (authorize, token, userinfo), a login 3 requests "
        "(authorize, login page, login form); CPU per unit is the server's (gunicorn master "
        "and workers, /proc) per flow or login",
        "",
        "## Targets (issues 9 and 20)",
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
            *_paragraph(token_floor_sentence(medians(backend), u["RS256"])),
            f'"database is locked" in the provider\'s log: {backend["database_locked"]}; '
            f"tracebacks: {backend['tracebacks']}.",
            "",
            _rss_before_login(backend),
            "",
        ]
    lines += _peer_lines(results)
    lines += _python_peer_lines(results)
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
        *_paragraph(token_floor_sentence(first, sig)),
        f"One RS256 signature: {sig:.3f} ms CPU. Targets: {passed} of {len(found)} pass; "
        "failing: " + ("; ".join(failed) if failed else "none") + ".",
    ]
    lines += _paragraph(peer_sentence(results))
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
    sqlite = next((b for b in results["backends"] if b["backend"] == "sqlite"), None)
    kept = round_ratios(sqlite, "token-keepalive", "peer-token-keepalive") if sqlite else None
    closed = round_ratios(sqlite, "token", "peer-token") if sqlite else None
    if kept and closed:
        text += (
            f"; the token endpoint serves {kept.median:.2f} x the throughput of "
            "node-oidc-provider keeping its records in memory (ours writes each to the "
            f"database) with connections kept alive on both sides, {closed.median:.2f} x with "
            "them closed "
            f"(medians of {len(kept.values)} rounds; one RS256 signature "
            f"{results['backends'][0]['unit_ms']['RS256']:.3f} ms)"
        )
    floor = first.get("token-floor")
    if floor and "token" in first:
        text += (
            f"; a token request costs {first['token']['cpu_ms'] / floor['cpu_ms']:.1f} x the "
            "CPU of the least one can cost on the same server and database "
            "([bench/token_floor.py](bench/token_floor.py))"
        )
    python_peers = python_peer_sentence(results)
    if python_peers:
        text += f"; {python_peers}"
    return text + f". {passed} of {len(found)} targets met: [bench/README.md](bench/README.md)."


PYTHON_PEER_NAMES = {
    "dot": "django-oauth-toolkit's (its default, a hashed client secret)",
    "dot-clear": "django-oauth-toolkit's with the secret in clear",
    "authlib": "Authlib's",
}


def python_peer_sentence(results: dict[str, Any]) -> str:
    """The token endpoint's throughput over each Python peer's, per backend (medians of
    the per-round ratios), for the README."""
    parts = []
    for backend in results["backends"]:
        ratios = []
        for peer in backend.get("python_peers") or []:
            spread = round_ratios(backend, "token", f"{peer['name']}-token")
            if spread:
                ratios.append(
                    f"{spread.median:.1f} x {PYTHON_PEER_NAMES.get(peer['name'], peer['title'])}"
                )
        if ratios:
            name = "SQLite" if backend["backend"] == "sqlite" else "PostgreSQL"
            parts.append(f"on {name} " + ", ".join(ratios))
    if not parts:
        return ""
    return "its throughput (same gunicorn, same workers) is " + "; ".join(parts)


def update_readme(path: Path, block: str, marker: str = "latest") -> None:
    """Replace what stands between the ``marker`` markers of ``path``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = path.read_text()
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{block}\n{end}{tail}")
