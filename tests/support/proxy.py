"""A forward HTTP proxy on 127.0.0.1 that records what it was asked to carry.

The ``proxy`` fixture (registered for the whole suite by ``tests/conftest.py``) forwards a
POST in absolute form (``POST http://host:port/path``) and tunnels ``CONNECT host:port``
byte for byte (TLS stays between the two ends); ``proxy.requests`` lists each request line
as ``(method, target)``.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest


@dataclass
class Proxy:
    port: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _relay(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or 5 s of silence)."""
    while True:
        readable, _, _ = select.select([one, other], [], [], 5)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (other if sock is one else one).sendall(data)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    state = Proxy()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.requests.append(("POST", self.path))
            target = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=5)
            path = target.path + (f"?{target.query}" if target.query else "")
            headers = {"Content-Type": self.headers.get("Content-Type", ""), "Host": target.netloc}
            upstream.request("POST", path, body=body, headers=headers)
            status = upstream.getresponse().status
            upstream.close()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_CONNECT(self) -> None:
            state.requests.append(("CONNECT", self.path))
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            self.send_response(200)
            self.end_headers()
            try:
                _relay(self.connection, upstream)
            finally:
                upstream.close()
                self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
