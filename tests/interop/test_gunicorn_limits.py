"""Request limits under the real server (``oidc-core serve``, gunicorn).

A chunked body (no Content-Length) is read no further than ``max_body_bytes`` (T-78).
gunicorn de-chunks the body and marks it ``wsgi.input_terminated``; WebOb alone would read
such a body to its end.  Here the client keeps sending chunks, and the answer must arrive
long before it has sent everything.

gunicorn's own limits agree with the provider's (T-12): a URL up to ``max_url_length``
(under ``serve``, the longest gunicorn reads) and a header up to ``max_header_bytes`` are
served, and the provider's own 414 and 431 answer beyond (gunicorn answered anything over
4 KB of request line, or 8 KB of one header, itself).
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from oidc_core import serving
from tests.support.live import OIDC_CORE, LiveProvider, provider_at

LIMIT = 65536  # the default max_body_bytes
DISCOVERY = "/.well-known/openid-configuration"
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


def get(live: LiveProvider, query: str, **headers: str) -> requests.Response:
    """GET discovery with ``query``: the provider counts its path and query."""
    return requests.get(f"{live.issuer}{DISCOVERY}?{query}", headers=headers, timeout=10)


def query_for(length: int) -> str:
    """A query that makes discovery's path and query ``length`` bytes long."""
    return "q=" + "u" * (length - len(DISCOVERY) - len("q="))


def assert_providers_answer(response: requests.Response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text[:200])
    assert response.headers["Content-Type"] == "application/json"  # not gunicorn's page
    assert response.json()["error"] == "invalid_request"


def test_urls_up_to_the_longest_gunicorn_reads_are_served(live: LiveProvider) -> None:
    assert serving.MAX_URL_LENGTH == 8172
    assert get(live, query_for(6000)).status_code == 200
    assert get(live, query_for(serving.MAX_URL_LENGTH)).status_code == 200


def test_a_url_over_max_url_length_gets_the_providers_414(live: LiveProvider) -> None:
    assert_providers_answer(get(live, query_for(serving.MAX_URL_LENGTH + 1)), 414)
    beyond = get(live, query_for(20000))  # more than gunicorn reads: its own 414
    assert beyond.status_code == 414


def test_a_header_up_to_max_header_bytes_is_served(live: LiveProvider) -> None:
    filler = "h" * (16384 - len("X-Filler") - 200)  # the other headers' share
    assert get(live, "a=b", **{"X-Filler": filler}).status_code == 200


def test_headers_over_max_header_bytes_get_the_providers_431(live: LiveProvider) -> None:
    halves = {"X-One": "h" * 9000, "X-Two": "h" * 9000}
    assert_providers_answer(get(live, "a=b", **halves), 431)


def test_serve_refuses_a_max_url_length_gunicorn_cannot_read(live: LiveProvider) -> None:
    env = {**live.env, "OIDC_MAX_URL_LENGTH": str(serving.MAX_URL_LENGTH + 1)}
    result = subprocess.run(
        [OIDC_CORE, "serve", "--bind", "127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == (
        "configuration error: OIDC_MAX_URL_LENGTH: at most 8172 under oidc-core serve "
        "(gunicorn reads request lines of at most 8190 bytes)\n"
    )
