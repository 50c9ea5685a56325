"""Counters and a latency histogram in the Prometheus text exposition format (0.0.4).

A small in-process registry, one per :class:`~oidc_core.provider.Provider`: under gunicorn
each worker process counts its own requests, so a scrape sees the worker that answered it
(``docs/deployment.md`` says how to read that).  Label values are bounded: the endpoint is
one of our route names (:func:`endpoint_name`), never a raw path.
"""

from __future__ import annotations

import threading
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds; fixed so that workers and restarts always agree.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The provider's counters; every method is safe to call from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._tokens: dict[str, int] = defaultdict(int)
        self._login_failures = 0

    def request_done(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(endpoint, str(status))] += 1
            buckets = self._buckets.setdefault(endpoint, [0] * len(BUCKETS))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[index] += 1
            self._sums[endpoint] += seconds
            self._counts[endpoint] += 1

    def token_issued(self, grant_type: str) -> None:
        with self._lock:
            self._tokens[grant_type] += 1

    def login_failed(self) -> None:
        with self._lock:
            self._login_failures += 1

    def exposition(self) -> str:
        """Every metric in the text format, ending with a newline."""
        with self._lock:
            lines = [
                "# HELP oidc_requests_total Requests answered, by endpoint and status.",
                "# TYPE oidc_requests_total counter",
            ]
            for (endpoint, status), count in sorted(self._requests.items()):
                lines.append(
                    f'oidc_requests_total{{endpoint="{endpoint}",status="{status}"}} {count}'
                )
            lines += [
                "# HELP oidc_request_duration_seconds Time to answer a request, by endpoint.",
                "# TYPE oidc_request_duration_seconds histogram",
            ]
            for endpoint, buckets in sorted(self._buckets.items()):
                name = "oidc_request_duration_seconds"
                for bound, count in zip(BUCKETS, buckets, strict=True):
                    lines.append(f'{name}_bucket{{endpoint="{endpoint}",le="{bound}"}} {count}')
                total = self._counts[endpoint]
                lines.append(f'{name}_bucket{{endpoint="{endpoint}",le="+Inf"}} {total}')
                lines.append(f'{name}_sum{{endpoint="{endpoint}"}} {self._sums[endpoint]:.6f}')
                lines.append(f'{name}_count{{endpoint="{endpoint}"}} {total}')
            lines += [
                "# HELP oidc_tokens_issued_total Successful token responses, by grant type.",
                "# TYPE oidc_tokens_issued_total counter",
            ]
            for grant_type, count in sorted(self._tokens.items()):
                lines.append(f'oidc_tokens_issued_total{{grant_type="{grant_type}"}} {count}')
            lines += [
                "# HELP oidc_login_failures_total Sign-ins refused for a wrong email or password.",
                "# TYPE oidc_login_failures_total counter",
                f"oidc_login_failures_total {self._login_failures}",
            ]
        return "\n".join(lines) + "\n"
