"""Which client, which step, and the provider's log lines for it, when an interop test fails.

The provider answers every request with ``X-Request-Id`` and writes that id in each log line
of the request (text or JSON lines).  A :class:`Trace` collects one client's requests (method,
URL without its query, status, request id): from a ``requests`` session it hands out or
watches, and from what a client library or a browser reports.  ``step`` turns any failure
inside it into an error naming the client and the step, followed by each request of the step
(the last, usually the failing one, first) with the provider's log lines of that request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

REQUEST_ID = "X-Request-Id"
LOG_TAIL = 40  # when no request reached the provider, its last lines
LOG_SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class Seen:
    method: str
    url: str  # without the query: no codes or tokens in a failure message
    status: int
    request_id: str


@dataclass(repr=False)
class Trace:
    client: str  # the library and its version, e.g. "openid-client 6.9.0"
    log: Path  # the live provider's log
    seen: list[Seen] = field(default_factory=list)

    def session(self) -> requests.Session:
        """A ``requests.Session`` (a browser's stand-in) whose requests are recorded."""
        return self.watch(requests.Session())

    def watch(self, session: requests.Session) -> requests.Session:
        """Record the requests of ``session``: one a client library made (Authlib's or
        requests-oauthlib's ``OAuth2Session``, pyoidc's ``requests_session``)."""
        session.hooks["response"].append(self._record_response)
        return session

    def _record_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        method = response.request.method or "?"
        self.record(method, response.url, response.status_code, response.headers.get(REQUEST_ID))

    def record(self, method: str, url: str, status: int, request_id: str | None) -> None:
        self.seen.append(Seen(method, url.split("?")[0], status, request_id or ""))

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Name a step; a failure in it names the client and the step and shows the
        provider's log lines for the step's requests."""
        first = len(self.seen)
        try:
            yield
        except (Exception, pytest.fail.Exception) as exc:
            report = self.report(self.seen[first:])
            raise AssertionError(f"{self.client}: step {name!r} failed: {exc}\n{report}") from exc

    def report(self, seen: list[Seen]) -> str:
        lines = self._log_lines([one.request_id for one in seen if one.request_id])
        if not seen:
            return f"--- no request reached the provider; its last {LOG_TAIL} log lines ---\n" + (
                "\n".join(lines[-LOG_TAIL:])
            )
        report = []
        for one in reversed(seen):
            report.append(f"--- {one.method} {one.url} -> {one.status} [{one.request_id or '-'}]")
            logged = [line for line in lines if one.request_id and one.request_id in line]
            report.extend(f"    {line}" for line in logged or ["(no log line for this request)"])
        return "\n".join(report)

    def _log_lines(self, request_ids: list[str]) -> list[str]:
        """The log's lines, once each request id is in it (the workers write their lines
        on their own; a second at most)."""
        deadline = time.monotonic() + LOG_SETTLE_SECONDS
        while True:
            text = self.log.read_text(errors="replace")
            if all(rid in text for rid in request_ids) or time.monotonic() > deadline:
                return text.splitlines()
            time.sleep(0.05)
