"""params.request_body: the body read once, as WebOb's ``request.body`` reads it."""

from __future__ import annotations

import io

import pytest
from webob import Request
from webob.request import DisconnectionError

from oidc_core.params import request_body

BODY = b"grant_type=authorization_code&code=abc"


def _request(body: bytes, length: int) -> Request:
    return Request.blank(
        "/token",
        method="POST",
        environ={"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(length)},
    )


def test_read_once_and_kept_for_a_second_reader() -> None:
    request = _request(BODY + b"&trailing", len(BODY))
    assert request_body(request) == BODY
    assert request.body == BODY
    assert request_body(request) == BODY


def test_a_body_shorter_than_its_length_is_a_disconnection_as_with_webob() -> None:
    with pytest.raises(DisconnectionError):
        request_body(_request(BODY, len(BODY) + 10))
    with pytest.raises(DisconnectionError):
        _ = _request(BODY, len(BODY) + 10).body


def test_a_body_read_in_part_before_ends_instead_of_waiting() -> None:
    request = _request(BODY, len(BODY))
    assert request.body_file.read(5) == BODY[:5]
    with pytest.raises(DisconnectionError):
        request_body(request)


def test_no_body() -> None:
    assert request_body(_request(b"", 0)) == b""
