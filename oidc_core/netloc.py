"""Loopback hosts: the one place that says which hosts may be reached over plain http.

RFC 8252 section 7.3 and RFC 9700 section 2.1: a redirect URI may use ``http`` only on a
loopback host, which never leaves the machine.  Two rules use the same names:

* :func:`is_loopback_host` (redirect URIs, client logos, CORS origins): ``localhost`` or any
  loopback address, ``127.0.0.0/8`` or ``::1``;
* the issuer and ``oidc-core serve``'s bind accept exactly :data:`LOOPBACK_HOSTS`, the
  three names a development set-up uses (``docs/deployment.md``).
"""

from __future__ import annotations

import ipaddress

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1`` (RFC 8252 section 7.3); ``host`` as
    ``urlsplit(...).hostname`` gives it (IPv6 without brackets)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
