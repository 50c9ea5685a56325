"""Where a scenario's time goes: py-spy samples the provider's workers during one wrk run.

    .venv/bin/pip install py-spy
    .venv/bin/python bench/hotspots.py token [--duration 10] [--postgresql URL] [--top 25]

Sets the servers up as bench/run.py does, warms the scenario up, then runs it once while
``py-spy record --gil`` samples both gunicorn workers whenever they hold the GIL: their
Python CPU time (C code that releases the GIL, such as SQLite's commit or a socket write,
is not in it; ``--all-time`` samples waits too).  Prints the functions with the largest
share of the samples, inclusive (the function and what it calls) and self.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import BIN, measure, started
from scenarios import OURS

IDLE = re.compile(r"\b(select|accept|wait|sleep|poll)\b \(")
# gunicorn's own loop around every request: in every sample, so left out of the listing
FRAME = re.compile(
    r"\bgunicorn/(arbiter\.py|app/|workers/base\.py)"
    r"|^<module> |SyncWorker\.(run|run_for_one|accept) "
)
LINE = re.compile(r" \(([^:()]+):\d+\)$")


def frame_name(frame: str) -> str:
    """``function (path/file.py:123)`` -> ``function (file.py)``."""
    match = LINE.search(frame)
    if not match:
        return frame
    return frame[: match.start()] + f" ({Path(match.group(1)).name})"


def summarise(raw: list[Path], top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    busy = 0
    for path in raw:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = [frame_name(f) for f in stack.split(";") if f and not FRAME.search(f)]
            if not frames or IDLE.search(stack.split(";")[-1] + " ("):
                continue
            n = int(count)
            busy += n
            own[frames[-1]] += n
            for name in set(frames):
                inclusive[name] += n
    lines = [f"{busy} busy samples", "", "inclusive:"]
    lines += [f"  {100 * n / busy:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"  {100 * n / busy:5.1f} %  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=[s.name for s in OURS if s.server == "provider"])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--postgresql", help="postgresql://... instead of SQLite")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--all-time",
        action="store_true",
        help="sample waits too (socket writes, the lock of SQLite); default: only while the "
        "worker holds the GIL, i.e. its Python CPU time",
    )
    args = parser.parse_args()
    spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    scenario = next(s for s in OURS if s.name == args.scenario)
    work = Path(tempfile.mkdtemp(prefix="oidc-profile-"))
    backend = "postgresql" if args.postgresql else "sqlite"
    url = args.postgresql or f"sqlite:///{work}/bench.db"
    with started(backend, url, work, with_peer=False) as setup:
        measure(setup, scenario, 2)
        raw = [work / f"worker-{pid}.txt" for pid in setup.servers["provider"].workers]
        seconds = str(int(args.duration) + 1)
        options = ["--duration", seconds, "--rate", "500", "--format", "raw", "--nonblocking"]
        if not args.all_time:
            options.append("--gil")
        spies = [
            subprocess.Popen(
                [spy, "record", "--pid", str(pid), *options, "--output", str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, path in zip(setup.servers["provider"].workers, raw, strict=True)
        ]
        measure(setup, scenario, args.duration)
        for spy_process in spies:
            spy_process.wait(timeout=60)
    print(summarise([path for path in raw if path.exists()], args.top))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
