"""The WebAuthn Relying Party the provider is: its ID and origin, from the issuer.

WebAuthn Level 2 section 5.1.3 and 7.1: the RP ID is a registrable domain the browser's
origin is on, and the ``origin`` in ``clientDataJSON`` must be the page's exact origin.
Both come from ``settings.issuer`` (``https://login.example.com/oidc`` gives the RP ID
``login.example.com`` and the origin ``https://login.example.com``), never from a request
header.  An issuer on an IP address (``http://127.0.0.1:8000``) has no RP ID (browsers
refuse one): passkeys are then unavailable and the pages do not offer them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the issuer's host name
    origin: str  # scheme://host[:port], as a browser writes it (no default port)
    name: str  # shown by some authenticators next to the account


def relying_party(issuer: str) -> RelyingParty | None:
    """The RP of a provider at ``issuer``; None when the issuer's host is an IP address."""
    parts = urlsplit(issuer)
    host = (parts.hostname or "").lower()
    if not host or _is_ip(host):
        return None
    origin = f"{parts.scheme}://{host}"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        origin += f":{parts.port}"
    return RelyingParty(id=host, origin=origin, name=host)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
