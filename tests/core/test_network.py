"""Forwarded headers are believed only from trusted proxies (R-PX-1)."""

from __future__ import annotations

import pytest
from webob import Request

from oidc_core.network import client_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "::1"])


def request(peer: str, forwarded: str | None = None) -> Request:
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    return Request.blank("/", environ=environ)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", "198.51.100.1"),  # spoofed left part
        ("10.1.2.3", "10.0.0.5", "10.1.2.3"),  # only proxies: the peer
        ("10.1.2.3", "", "10.1.2.3"),
        ("::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(request(peer, forwarded), PROXIES) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    assert client_address(request("10.1.2.3", "198.51.100.1"), ()) == "10.1.2.3"
