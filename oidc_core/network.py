"""The client's address, believing ``X-Forwarded-For`` only from trusted proxies.

RFC 9700 section 4.13 and the deployment notes: a forwarded header is written by whoever
sent the request, so it is read only when the direct peer is one of
``settings.trusted_proxies``, and then from the right, skipping our own proxies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from webob import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    """The address of the client: the peer, or the first untrusted hop it forwarded for."""
    peer = str(request.remote_addr or "")
    if not trusted or not _trusted(peer, trusted):
        return peer
    forwarded = str(request.headers.get("X-Forwarded-For", ""))
    hops = [hop.strip() for hop in forwarded.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _trusted(hop, trusted):
            return hop
    return peer
