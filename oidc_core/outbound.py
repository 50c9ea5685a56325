"""Requests to a URI a client registered: POSTing a form (Back-Channel Logout 1.0 section
2.5), GETting a document (a ``sector_identifier_uri``, OIDC Registration 5).

The provider connects from inside its own network to a host a client chose, so the request
is made with care (OWASP's server-side request forgery advice):

- only to ``http`` and ``https`` URIs, and never following a redirect: the answer is the
  answer (a 3xx is no 2xx);
- directly, or through the one HTTP proxy configured (``backchannel_proxy``): none is
  taken from the environment (``HTTP_PROXY``, ``https_proxy``, ...);
- within ``timeout`` seconds for the connection and for each read (a GET: for the whole
  answer, whose body is also limited in size);
- unless ``allow_private`` is set, only to public addresses: the host name is resolved
  once, every address it resolves to must be public (:func:`is_public_address`), and the
  connection is made to one of those checked addresses, so a DNS answer that changes
  between the check and the connection (DNS rebinding) cannot lead elsewhere.  The
  ``Host`` header, the TLS server name (SNI) and the certificate check still use the host
  name.  Through a proxy, the proxy resolves the name and its own rules decide where it
  may connect; only an IP address or ``localhost`` is refused here.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: an IPv4 address inside

Address = tuple[socket.AddressFamily, tuple[str, int] | tuple[str, int, int, int]]


class OutboundError(Exception):
    """The request was not made, or got no answer; the message says why (for the log)."""


class RefusedAddress(OutboundError):
    """The host name resolves to an address that is not public."""


class TooLarge(OutboundError):
    """The answer's body is longer than allowed."""


class TooSlow(OutboundError):
    """The whole answer did not arrive in time."""


def post_form(
    uri: str, form: Mapping[str, str], *, timeout: float, allow_private: bool, proxy: str = ""
) -> int:
    """POST ``form`` (``application/x-www-form-urlencoded``) to ``uri``, through the HTTP
    ``proxy`` when one is given; the status of the answer.  Raises
    :class:`OutboundError` when there is none."""
    connection, target = _connection(uri, timeout=timeout, allow_private=allow_private, proxy=proxy)
    try:
        connection.request(
            "POST",
            target,
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return connection.getresponse().status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise OutboundError(f"no answer: {exc!r}") from None
    finally:
        connection.close()


def get(
    uri: str, *, timeout: float, allow_private: bool, max_bytes: int, proxy: str = ""
) -> tuple[int, bytes]:
    """GET ``uri`` (the same rules as :func:`post_form`): the answer's status and body.

    The whole answer must arrive within ``timeout`` seconds and its body be at most
    ``max_bytes`` long; raises :class:`TooLarge`, :class:`TooSlow`, or
    :class:`OutboundError` when there is no answer."""
    deadline = time.monotonic() + timeout
    connection, target = _connection(uri, timeout=timeout, allow_private=allow_private, proxy=proxy)
    # The deadline covers the status line and the headers too, which http.client reads
    # with a per-read timeout only: at the deadline the connection is shut from here, and
    # a read blocked on it ends at once.
    watchdog = threading.Timer(timeout, _shut, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("GET", target, headers={"Accept": "application/json"})
        response = connection.getresponse()
        length = response.getheader("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise TooLarge(f"Content-Length {length} is over {max_bytes} bytes")
        body = b""
        while len(body) <= max_bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TooSlow(f"no whole answer within {timeout} seconds")
            if connection.sock is not None:
                connection.sock.settimeout(left)
            chunk = response.read1(max_bytes + 1 - len(body))
            if not chunk:
                return response.status, body
            body += chunk
        raise TooLarge(f"the body is over {max_bytes} bytes")
    except TimeoutError:
        raise TooSlow(f"no whole answer within {timeout} seconds") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if time.monotonic() >= deadline:  # the watchdog shut the connection
            raise TooSlow(f"no whole answer within {timeout} seconds") from None
        raise OutboundError(f"no answer: {exc!r}") from None
    finally:
        watchdog.cancel()
        connection.close()


def _shut(connection: http.client.HTTPConnection) -> None:
    """End every read on the connection's socket (from another thread)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # closed meanwhile
            sock.shutdown(socket.SHUT_RDWR)


def _connection(
    uri: str, *, timeout: float, allow_private: bool, proxy: str
) -> tuple[http.client.HTTPConnection, str]:
    """A connection for ``uri`` (not opened yet) and the request target to send."""
    parts = urlsplit(uri)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        raise OutboundError("not a valid URI") from None
    host = parts.hostname or ""
    if parts.scheme not in DEFAULT_PORTS or not host:
        raise OutboundError("only http:// and https:// URIs are requested")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if proxy:
        if not allow_private:
            _refuse_private_name(host)
        connection = _proxied(proxy, parts.scheme, host, port, timeout)
        if parts.scheme == "http":
            target = f"http://{parts.netloc}{target}"  # the absolute form, for the proxy
        return connection, target
    addresses = resolve(host, port)
    if not allow_private:
        refused = [ip for _, (ip, *_) in addresses if not is_public_address(ip)]
        if refused:
            raise RefusedAddress(f"{host} resolves to {refused[0]}, which is not public")
    if parts.scheme == "https":
        return _PinnedHTTPSConnection(host, port, addresses, timeout), target
    return _PinnedHTTPConnection(host, port, addresses, timeout), target


def check_proxy(proxy: str) -> tuple[str, int]:
    """The host and port of an HTTP proxy given as ``http://host:port``; ValueError when
    it is anything else."""
    parts = urlsplit(proxy)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or not port:
        raise ValueError("must be http://host:port")
    if "@" in parts.netloc or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("must be http://host:port, nothing else")
    return parts.hostname, port


def _proxied(
    proxy: str, scheme: str, host: str, port: int, timeout: float
) -> http.client.HTTPConnection:
    """A connection through ``proxy``: a ``CONNECT`` tunnel for https (TLS is then made
    with ``host``, certificate checked), the absolute URI for http.  The proxy resolves
    ``host``: which addresses it may reach is the proxy's rule."""
    proxy_host, proxy_port = check_proxy(proxy)
    if scheme == "http":
        return http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
    connection = http.client.HTTPSConnection(
        proxy_host, proxy_port, timeout=timeout, context=ssl.create_default_context()
    )
    connection.set_tunnel(f"[{host}]" if ":" in host else host, port)
    return connection


def _refuse_private_name(host: str) -> None:
    """With a proxy, which resolves names: a host that is a non-public IP address, or a
    name for the proxy's own host, is refused here already."""
    lowered = host.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        raise RefusedAddress(f"{host} is a loopback name, which is not public")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_public_address(host):
        raise RefusedAddress(f"{host} is an address which is not public")


def resolve(host: str, port: int) -> list[Address]:
    """Every TCP address ``host`` resolves to, looked up once."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise OutboundError(f"{host} does not resolve: {exc}") from None
    addresses = [
        (family, sockaddr)
        for family, _, _, _, sockaddr in found
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    if not addresses:
        raise OutboundError(f"{host} has no IP address")
    return addresses  # type: ignore[return-value]


def is_public_address(address: str) -> bool:
    """Whether ``address`` is publicly routable: not loopback, private, link-local (cloud
    metadata at 169.254.169.254), unique-local, shared, reserved, documentation,
    unspecified or multicast; an IPv4 address inside an IPv6 one (mapped, 6to4, NAT64) is
    judged by the IPv4 address too."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d
            return is_public_address(str(ip.ipv4_mapped))
        inner = ip.sixtofour
        if inner is None and ip in NAT64_PREFIX:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if (inner is not None and not is_public_address(str(inner))) or ip.teredo:
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _connect(addresses: list[Address], timeout: float | None) -> socket.socket:
    """A TCP connection to the first of ``addresses`` that accepts one."""
    error: OSError = OSError("no address to connect to")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection for ``host`` made to one of ``addresses`` (already checked)."""

    def __init__(self, host: str, port: int, addresses: list[Address], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection for ``host`` made to one of ``addresses`` (already checked); the
    certificate must be valid for ``host``, which is also the server name sent (SNI)."""

    def __init__(self, host: str, port: int, addresses: list[Address], timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
