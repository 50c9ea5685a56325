"""Counters and a latency histogram in the Prometheus text exposition format (0.0.4).

Counted with ``prometheus_client``.  In a single process (tests, a host application) each
:class:`~oidc_core.provider.Provider` has a registry of its own, so that two providers'
counts never mix.  When ``PROMETHEUS_MULTIPROC_DIR`` is set (``oidc-core serve`` sets it for
its gunicorn workers, ``oidc_adapters.gunicorn_metrics``), every process writes its counts to
files in that directory and a scrape sums the files of every worker, living or dead: any
worker answers with the server's totals.  Label values are bounded: the endpoint is a route's
name (:attr:`oidc_core.routes.Route.name`, :func:`oidc_core.routes.endpoint_name`), never a
raw path.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from .settings import ConfigurationError

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; fixed so that workers and restarts always agree.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The variable that puts prometheus_client in multiprocess mode (read when it is imported).
DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# A file in a directory that ``oidc-core serve`` created: its gunicorn removes the directory.
TEMPORARY_MARK = "created-by-oidc-core-serve"
# Our metric families, in the order of the exposition; nothing else is exposed (a host's
# own metrics in the same directory stay on the host's own endpoint).
FAMILIES = (
    "oidc_requests",
    "oidc_request_duration_seconds",
    "oidc_tokens_issued",
    "oidc_login_failures",
)


@dataclass(frozen=True)
class _Instruments:
    """Counters and a histogram only: summed over processes as they are.  A gauge would need
    a ``multiprocess_mode`` (``livesum``, ...) to say how processes combine."""

    requests: Counter
    duration: Histogram
    tokens: Counter
    login_failures: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> _Instruments:
        return cls(
            Counter(
                "oidc_requests_total",
                "Requests answered, by endpoint and status.",
                ["endpoint", "status"],
                registry=registry,
            ),
            Histogram(
                "oidc_request_duration_seconds",
                "Time to answer a request, by endpoint.",
                ["endpoint"],
                buckets=BUCKETS,
                registry=registry,
            ),
            Counter(
                "oidc_tokens_issued_total",
                "Successful token responses, by grant type.",
                ["grant_type"],
                registry=registry,
            ),
            Counter(
                "oidc_login_failures_total",
                "Sign-ins refused for a wrong email or password.",
                registry=registry,
            ),
        )


# Multiprocess mode: one set of instruments per process, whatever the number of providers
# (two value objects of one series in one process would overwrite each other's file entry).
_shared_lock = threading.Lock()
_shared: _Instruments | None = None


def _process_instruments() -> _Instruments:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = _Instruments.create(CollectorRegistry(auto_describe=False))
        return _shared


class _Ours(Collector):
    """Our families from ``source``, in a fixed order, without the ``_created`` series
    (a process's start time: neither summed over workers nor exposed before)."""

    def __init__(self, source: Collector) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        families = {metric.name: metric for metric in self._source.collect()}
        for name in FAMILIES:
            found = families.get(name)
            if found is None:
                continue
            metric = Metric(found.name, found.documentation, found.type, found.unit)
            metric.samples = [s for s in found.samples if not s.name.endswith("_created")]
            yield metric


class Metrics:
    """The provider's counters; every method is safe to call from several threads."""

    def __init__(self) -> None:
        directory = os.environ.get(DIRECTORY_VARIABLE)
        if directory:
            if values.ValueClass is values.MutexValue:  # counts would stay in the process
                raise ConfigurationError(
                    f"{DIRECTORY_VARIABLE} was set after prometheus_client was imported: "
                    "set it in the environment the server starts with"
                )
            self._instruments = _process_instruments()
            scraped = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(scraped, path=directory)  # type: ignore[no-untyped-call]
        else:
            scraped = CollectorRegistry(auto_describe=False)
            self._instruments = _Instruments.create(scraped)
        self._exposed = _Ours(scraped)
        self._request_series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._token_series: dict[str, Counter] = {}  # bounded: our grant types

    def request_done(self, endpoint: str, status: int, seconds: float) -> None:
        series = self._request_series.get((endpoint, status))
        if series is None:  # labels() costs more than the count: keep each pair's series
            series = (
                self._instruments.requests.labels(endpoint=endpoint, status=str(status)),
                self._instruments.duration.labels(endpoint=endpoint),
            )
            self._request_series[(endpoint, status)] = series  # bounded: routes x statuses
        series[0].inc()
        series[1].observe(seconds)

    def token_issued(self, grant_type: str) -> None:
        series = self._token_series.get(grant_type)
        if series is None:
            series = self._token_series[grant_type] = self._instruments.tokens.labels(
                grant_type=grant_type
            )
        series.inc()

    def login_failed(self) -> None:
        self._instruments.login_failures.inc()

    def exposition(self) -> str:
        """Every metric in the text format, ending with a newline."""
        return generate_latest(self._exposed).decode("utf-8")
