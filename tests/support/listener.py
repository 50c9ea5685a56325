"""A TCP port on 127.0.0.1 that records whether anything connected to it.

The ``listener`` fixture accepts each connection, notes the peer and hangs up at once: a
test points a redirect, a proxy variable or a URI at it and asserts that nobody came.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class Listener:
    port: int = 0
    connections: list[str] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    state = Listener()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    state.port = server.getsockname()[1]
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            state.connections.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield state
    done.set()
    thread.join(2)
    server.close()
