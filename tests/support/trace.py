"""Which client, which step, and the provider's log lines for it, when an interop test fails.

The provider answers every request with ``X-Request-Id`` and writes that id in each log line
of the request (text or JSON lines).  A :class:`Trace` collects the ids of one client's requests,
from a ``requests`` session it hands out and from what a client library reports, and
``step`` turns any failure inside it into an error naming the client, the step and the
provider's log lines for the requests made during that step.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REQUEST_ID = "X-Request-Id"
LOG_TAIL = 40  # when no request reached the provider, its last lines
LOG_SETTLE_SECONDS = 1.0


@dataclass(repr=False)
class Trace:
    client: str  # the library and its version, e.g. "openid-client 6.9.0"
    log: Path  # the live provider's log
    request_ids: list[str] = field(default_factory=list)

    def session(self) -> requests.Session:
        """A ``requests.Session`` (a browser's stand-in) whose requests are recorded."""
        session = requests.Session()
        session.hooks["response"].append(self._record_response)
        return session

    def _record_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.record([response.headers.get(REQUEST_ID, "")])

    def record(self, request_ids: Iterable[str | None]) -> None:
        self.request_ids.extend(filter(None, request_ids))

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Name a step; a failure in it names the client and the step and shows the
        provider's log lines for the step's requests."""
        first = len(self.request_ids)
        try:
            yield
        except Exception as exc:
            ids = self.request_ids[first:]
            raise AssertionError(
                f"{self.client}: step {name!r} failed: {exc}\n{self.provider_log(ids)}"
            ) from exc

    def provider_log(self, request_ids: list[str]) -> str:
        lines = self._log_lines(request_ids)
        if not request_ids:
            return f"--- no request reached the provider; its last {LOG_TAIL} log lines ---\n" + (
                "\n".join(lines[-LOG_TAIL:])
            )
        found = [line for line in lines if any(rid in line for rid in request_ids)]
        return f"--- provider log for requests {', '.join(request_ids)} ---\n" + "\n".join(
            found or ["(no line: the log is buffered or the request ids are wrong)"]
        )

    def _log_lines(self, request_ids: list[str]) -> list[str]:
        """The log's lines, once each request id is in it (the workers write their lines
        on their own; a second at most)."""
        deadline = time.monotonic() + LOG_SETTLE_SECONDS
        while True:
            text = self.log.read_text(errors="replace")
            if all(rid in text for rid in request_ids) or time.monotonic() > deadline:
                return text.splitlines()
            time.sleep(0.05)
