"""oidc_core.outbound: which addresses are public, which URIs are requested at all.

The addresses are only classified: nothing here connects to any address but 127.0.0.1.
The POSTs go to the ``receiver`` and ``listener`` fixtures' servers on 127.0.0.1.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from oidc_core import outbound
from tests.support.listener import Listener
from tests.support.receiver import Receiver


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # cloud instance metadata (link-local)
        "169.254.0.1",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.9.10",
        "0.0.0.0",  # reaches the host itself on Linux
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "192.0.2.10",  # documentation
        "198.18.0.1",  # benchmarking
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%1",
        "fc00::1",
        "fd12:3456:789a::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",  # documentation
        "ff02::1",  # multicast
        "not an address",
    ],
)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not outbound.is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"],
)
def test_public_addresses(address: str) -> None:
    assert outbound.is_public_address(address)


@pytest.mark.parametrize(
    "uri", ["ftp://127.0.0.1:{port}/", "gopher://127.0.0.1:{port}/", "file:///etc/passwd"]
)
def test_only_http_and_https_uris_are_requested(uri: str, listener: Listener) -> None:
    with pytest.raises(outbound.OutboundError, match="only http:// and https://"):
        outbound.post_form(
            uri.format(port=listener.port), {"a": "b"}, timeout=1, allow_private=True
        )
    assert listener.connections == []


def test_a_loopback_host_is_refused_before_any_connection(listener: Listener) -> None:
    for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
        with pytest.raises(outbound.RefusedAddress, match="which is not public"):
            outbound.post_form(
                f"http://{host}:{listener.port}/", {"a": "b"}, timeout=1, allow_private=False
            )
    assert listener.connections == []


def test_the_name_is_resolved_once_and_connected_to_as_resolved(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second lookup between the check and the connection (DNS rebinding); the
    ``Host`` header still names the host."""
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def dns(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        # rp.test is known to no resolver: this test's DNS answers 127.0.0.1 for it
        return real_getaddrinfo("127.0.0.1" if host == "rp.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    uri = f"http://rp.test:{receiver.port}/bc"
    assert outbound.post_form(uri, {"a": "b"}, timeout=2, allow_private=True) == 204
    assert lookups == ["rp.test"]
    assert receiver.hosts == [f"rp.test:{receiver.port}"]
    with pytest.raises(outbound.RefusedAddress, match=r"rp\.test resolves to 127\.0\.0\.1"):
        outbound.post_form(uri, {"a": "b"}, timeout=2, allow_private=False)
    assert len(receiver.received) == 1
