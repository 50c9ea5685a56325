"""Review of issue 17 (pairwise subjects, sector documents): defects found by the
adversarial review.  Each test fails on main for its defect and passes once it is fixed.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from oidc_core import sectors
from oidc_core.registration import InvalidMetadata
from tests.support.tls import TLSFiles

pytestmark = pytest.mark.mounts("one")

CB = "https://rp.example/cb"
HEADER_SECONDS = 4.0  # how long the hostile server takes to finish its headers


@pytest.fixture
def slow_header_server(tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An https server that answers at once with a status line, then trickles a header
    one byte every 0.1 s for HEADER_SECONDS, then sends a valid sector document."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.cert_file, tls_files.key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(65536)  # the request
                tls.sendall(b"HTTP/1.0 200 OK\r\nX-Pad: ")
                end = time.monotonic() + HEADER_SECONDS
                while time.monotonic() < end and not stop.is_set():
                    tls.sendall(b"a")
                    time.sleep(0.1)
                body = f'["{CB}"]'.encode()
                tls.sendall(
                    b"\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
        except OSError:
            pass  # the provider gave up: what the test wants

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}/sector.json"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def test_sector_fetch_time_limit_covers_the_status_line_and_headers(
    slow_header_server: str,
) -> None:
    """PW-6 promises a sector document "not complete within the time limit" is refused.

    ``outbound.get`` checks its deadline only while reading the body; the socket timeout
    set at connection time is per read, so a server that sends its status line and then
    one header byte every 0.1 s (or every 4.9 s) keeps ``getresponse()`` reading for as
    long as it likes (http.client allows 100 header lines of 64 KiB each).  A server
    registering itself thus holds a provider worker (and, through RFC 7592 PUT, a database
    transaction) for minutes.  Expected: refused within the time limit (1 s here), with
    the "did not arrive within" message.
    """
    fetch = sectors.SectorFetcher(allow_private=True, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(InvalidMetadata) as refused:
        fetch(slow_header_server)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the fetch took {elapsed:.1f} s with a 1 s limit"
    assert "did not arrive within" in refused.value.message
