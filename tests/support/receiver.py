"""A relying party's back-channel logout endpoint: an HTTP server on 127.0.0.1.

:func:`serve_receiver` runs one (over TLS with a :class:`~tests.support.tls.TLSFiles`
certificate when given) for the length of a ``with`` block; the ``receiver`` fixture
(registered for the whole suite by ``tests/conftest.py``) runs one for a test.  It records
each POST (path, content type, form, ``Host``), each GET, and each TLS client's server name,
and answers as the test set it: statuses, a ``Location``, a delay.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.support.tls import TLSFiles


@dataclass
class Receiver:
    """An RP's back-channel logout endpoint: records each POST, answers from ``statuses``
    (then 204), after ``delay`` seconds; records each GET, answered 200."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    location: str = ""  # sent as the Location header when set
    received: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # the Host header of each POST
    gets: list[str] = field(default_factory=list)  # the path of each GET
    server_names: list[str | None] = field(default_factory=list)  # each TLS client's SNI

    def uri(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, self.received

    def tokens(self, path: str) -> list[str]:
        return [form["logout_token"][0] for p, _, form in self.received if p == path]


@contextmanager
def serve_receiver(tls: TLSFiles | None = None) -> Iterator[Receiver]:
    """A :class:`Receiver` listening on 127.0.0.1 until the block ends; over TLS with
    ``tls``'s server certificate (for 127.0.0.1 and localhost) when given."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            state.received.append((self.path, self.headers.get("Content-Type", ""), parse_qs(body)))
            state.hosts.append(self.headers.get("Host", ""))
            time.sleep(state.delay)
            self.send_response(state.statuses.pop(0) if state.statuses else 204)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            state.gets.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        context.sni_callback = lambda _socket, name, _context: state.server_names.append(name)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as state:
        yield state
