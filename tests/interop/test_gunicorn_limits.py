"""Body limits under the real server (``oidc-core serve``, gunicorn): a chunked body
(no Content-Length) is read no further than ``max_body_bytes`` (T-78).

gunicorn de-chunks the body and marks it ``wsgi.input_terminated``; WebOb alone would read
such a body to its end.  Here the client keeps sending chunks, and the answer must arrive
long before it has sent everything.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.support.live import LiveProvider, provider_at

LIMIT = 65536  # the default max_body_bytes
CHUNK = b"a=" + b"x" * 8190
ENOUGH = 10_000_000  # what an endless client would have sent by the time we give up


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveProvider]:
    with provider_at(tmp_path_factory.mktemp("limits"), request) as provider:
        yield provider


def chunked_post(live: LiveProvider, path: str, chunks: Iterator[bytes]) -> tuple[int, bytes, int]:
    """POST ``chunks`` with ``Transfer-Encoding: chunked`` until the server answers;
    (status, body, bytes of body sent)."""
    parts = urlsplit(live.issuer)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            f"POST {parts.path}{path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
        )
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        else:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b"0\r\n\r\n")
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body, sent


def endless() -> Iterator[bytes]:
    for _ in range(ENOUGH // len(CHUNK)):
        yield CHUNK


def test_an_endless_chunked_body_is_413_long_before_its_end(live: LiveProvider) -> None:
    status, body, sent = chunked_post(live, "/token", endless())
    assert status == 413
    assert json.loads(body)["error"] == "invalid_request"
    assert sent < ENOUGH // 2, sent


def test_a_small_chunked_body_is_read(live: LiveProvider) -> None:
    form = [b"grant_type=", b"password&username=a", b"&password=b"]
    status, body, _ = chunked_post(live, "/token", iter(form))
    assert status == 400
    assert json.loads(body)["error"] == "unsupported_grant_type"  # the body was parsed
