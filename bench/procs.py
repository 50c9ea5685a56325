"""Processes for bench/run.py: servers on free loopback ports and what /proc says about them."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 (state) on: the command name may contain spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes (fields 14 and 15); a process gone counts 0."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine spent (/proc/stat: all but idle and iowait)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def peak_rss_mib(pid: int) -> float:
    """The resident set's high-water mark (VmHWM) since the process started or since
    :func:`reset_peak_rss`."""
    return _status_kib(pid, "VmHWM") / 1024


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def reset_peak_rss(pid: int) -> None:
    """Start VmHWM again from the current RSS (Linux >= 4.0; our own processes)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Server:
    """One server process (gunicorn, or node for the peer) on a loopback port.

    ``workers``: the processes that serve requests (gunicorn's workers; node itself)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        env: dict[str, str],
        logs: Path,
        *,
        worker_count: int,
        ready_path: str = "/",
    ) -> None:
        self.name = name
        self.port = port
        self.worker_count = worker_count
        self.ready_path = ready_path
        self.log = logs / f"{name}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        self.workers: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serving(self) -> list[int]:
        return children(self.proc.pid) if self.worker_count else [self.proc.pid]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.ready_path)
                if conn.getresponse().status == 200:
                    self.workers = self._serving()
                    if len(self.workers) == max(self.worker_count, 1):
                        return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s; see {self.log}")

    def pids(self) -> list[int]:
        """Every process of the server (gunicorn's master too)."""
        return sorted({self.proc.pid, *self.workers})

    def check_workers(self) -> None:
        if self._serving() != self.workers:
            raise RuntimeError(f"{self.name}: a worker restarted during the run; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
