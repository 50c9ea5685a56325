"""The plot of a bench/run.py run (latest.png): ratios, CPU per unit and RSS over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report import PAIRS
from report_targets import RSS_LIMIT_MIB, medians
from scenarios import BASELINES, OURS


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
