"""``/admin/metrics`` under ``oidc-core serve`` with several workers: every scrape, whichever
worker answers it, shows the server's totals, and a killed worker's counts stay in them
(prometheus_client's multiprocess mode, ``docs/deployment.md`` "Metrics").

The per-worker files are read with prometheus_client itself, to show that the requests were
spread over several workers and that a scrape is their sum.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support.live import HTTP_TIMEOUT, LiveProvider, provider_at

pytestmark = pytest.mark.server

WORKERS = 3
# (method, path, expected status) -> how many; endpoint labels in SENT_SERIES.
SENT = {
    ("GET", "/health/live", 200): 30,
    ("GET", "/no-such-page", 404): 18,
    ("POST", "/token", 400): 12,  # no form body
}
SENT_SERIES = {
    'oidc_requests_total{endpoint="health_live",status="200"}': 30,
    'oidc_requests_total{endpoint="other",status="404"}': 18,
    'oidc_requests_total{endpoint="token",status="400"}': 12,
    'oidc_request_duration_seconds_count{endpoint="token"}': 12,
}
SCRAPES = 6
WAIT_SECONDS = 20


def admin_token(live: LiveProvider) -> str:
    created = json.loads(live.cli("admin-token", "create", "--name", "prometheus", "--json"))
    return str(created["token"])


def scrape(live: LiveProvider, token: str) -> dict[str, float]:
    response = requests.get(
        live.issuer + "/admin/metrics",
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    values = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def send(live: LiveProvider, method: str, path: str, status: int) -> None:
    # A new connection each time (sync workers close it anyway), several at once: the
    # workers share them.
    response = requests.request(method, live.issuer + path, timeout=HTTP_TIMEOUT)
    assert response.status_code == status, (path, response.status_code, response.text[:300])


def send_all(live: LiveProvider, sent: dict[tuple[str, str, int], int]) -> None:
    calls = [call for call, times in sent.items() for _ in range(times)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda call: send(live, *call), calls))


def metrics_directory(live: LiveProvider) -> Path:
    """The directory ``oidc-core serve`` gave its workers (from gunicorn's environment)."""
    environ = Path(f"/proc/{live.server_pid}/environ").read_bytes().split(b"\0")
    found = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    assert found, "oidc-core serve set no PROMETHEUS_MULTIPROC_DIR for gunicorn"
    return Path(os.fsdecode(found[0]))


def requests_by_worker(directory: Path) -> Counter[int]:
    """The requests each worker process has counted in its own file."""
    counted: Counter[int] = Counter()
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        for metric in MultiProcessCollector.merge([str(path)]):
            if metric.name == "oidc_requests":
                counted[pid] += int(sum(sample.value for sample in metric.samples))
    return counted


def assert_every_scrape_shows(live: LiveProvider, token: str, expected: dict[str, int]) -> None:
    """``SCRAPES`` scrapes in a row; each sees ``expected`` and every scrape before it."""
    first = scrape(live, token).get('oidc_requests_total{endpoint="metrics",status="200"}', 0)
    for index in range(1, SCRAPES):
        values = scrape(live, token)
        for name, count in expected.items():
            assert values.get(name) == count, (index, name, values)
        scrapes = values['oidc_requests_total{endpoint="metrics",status="200"}']
        assert scrapes == first + index, (index, values)


def wait_for_workers(live: LiveProvider, gone: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        pids = live.worker_pids()
        if len(pids) == WORKERS and gone not in pids:
            return
        assert time.monotonic() < deadline, f"gunicorn did not replace worker {gone}: {pids}"
        time.sleep(0.05)


def test_every_scrape_sums_all_workers_and_keeps_a_killed_workers_counts(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with provider_at(tmp_path, request, workers=WORKERS) as live:
        directory = metrics_directory(live)
        token = admin_token(live)
        send_all(live, SENT)

        by_worker = requests_by_worker(directory)
        busy = [pid for pid, count in by_worker.items() if count]
        assert len(busy) >= 2, f"the requests did not reach several workers: {by_worker}"
        assert_every_scrape_shows(live, token, SENT_SERIES)

        # SIGKILL a worker that counted some of the requests: gunicorn starts another.
        victim = max(
            (pid for pid in live.worker_pids() if by_worker[pid]), key=by_worker.__getitem__
        )
        os.kill(victim, signal.SIGKILL)
        wait_for_workers(live, victim)
        assert_every_scrape_shows(live, token, SENT_SERIES)

        # The new worker counts on top of them.
        send_all(live, {("GET", "/health/live", 200): 6})
        assert_every_scrape_shows(
            live,
            token,
            {**SENT_SERIES, 'oidc_requests_total{endpoint="health_live",status="200"}': 36},
        )
        assert directory.is_dir()
    assert not directory.exists(), "the temporary metrics directory outlived the server"


def test_a_directory_of_your_own_is_emptied_at_start_and_kept(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    # An earlier process left its counts there, as a previous run of the server would.
    earlier = "from oidc_core.metrics import Metrics; Metrics().request_done('health_live', 200, 0)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", earlier], env=env, check=True, timeout=60)
    assert requests_by_worker(directory), "the earlier process left no counts"

    health = 'oidc_requests_total{endpoint="health_live",status="200"}'
    settings = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with provider_at(tmp_path, request, settings=settings) as live:
        assert metrics_directory(live) == directory
        token = admin_token(live)
        assert health not in scrape(live, token)  # the earlier counts are gone
        send_all(live, {("GET", "/health/live", 200): 2})
        assert scrape(live, token)[health] == 2
    assert directory.is_dir()  # yours: only emptied
