"""A relying party's ``sector_identifier_uri``: an HTTPS server on 127.0.0.1.

:func:`serve_sector` runs one with a :class:`~tests.support.tls.TLSFiles` certificate for
the length of a ``with`` block (the provider trusts its CA through ``SSL_CERT_FILE``).  Each
path answers as the test set it in :attr:`SectorServer.answers`: a status, a body, headers,
and optionally the body trickled out a few bytes at a time (a server too slow to finish).
Every GET is recorded.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.tls import TLSFiles


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"[]"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    send_length: bool = True  # False: no Content-Length, the body ends with the connection
    trickle: float = 0.0  # seconds between single bytes of the body (0: all at once)
    # seconds during which a header is trickled out a byte every 0.1 s before the others
    slow_header: float = 0.0


@dataclass
class SectorServer:
    port: int = 0
    answers: dict[str, Answer] = field(default_factory=dict)
    gets: list[str] = field(default_factory=list)

    def uri(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, document: Any = None, **answer: Any) -> str:
        """Answer GET ``path`` (``document`` as JSON unless ``body`` is given); its URI."""
        if document is not None:
            answer.setdefault("body", json.dumps(document).encode())
        self.answers[path] = Answer(**answer)
        return self.uri(path)


@contextmanager
def serve_sector(tls: TLSFiles, monkeypatch: pytest.MonkeyPatch) -> Iterator[SectorServer]:
    state = SectorServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # a body without Content-Length ends at the close

        def do_GET(self) -> None:
            state.gets.append(self.path)
            answer = state.answers.get(self.path, Answer(status=404, body=b"not found"))
            if answer.slow_header:
                self._with_a_slow_header(answer)
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.send_length:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            try:
                if not answer.trickle:
                    self.wfile.write(answer.body)
                    return
                for index in range(len(answer.body)):
                    self.wfile.write(answer.body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(answer.trickle)
            except OSError:
                pass  # the provider gave up: what a too slow test wants

        def _with_a_slow_header(self, answer: Answer) -> None:
            """The status line, then a header a byte every 0.1 s for ``slow_header``
            seconds, then the rest of the answer (unless the client left)."""
            try:
                self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Pad: ")
                end = time.monotonic() + answer.slow_header
                while time.monotonic() < end:
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.1)
                length = f"Content-Length: {len(answer.body)}\r\n\r\n".encode()
                self.wfile.write(b"\r\nContent-Type: application/json\r\n" + length)
                self.wfile.write(answer.body)
            except OSError:
                pass  # the provider gave up: what a too slow test wants
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sector_server(tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch) -> Iterator[SectorServer]:
    with serve_sector(tls_files, monkeypatch) as state:
        yield state
