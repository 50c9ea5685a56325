"""Rules for client metadata on write (RFC 6749 section 3.1.2, RFC 9700 section 2.1).

Redirect URIs are matched by exact string comparison at the authorization endpoint, so
what is accepted here is what can ever be redirected to: absolute URIs without fragment,
``https`` (``http`` only on a loopback host), no whitespace or control characters, no
user information.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_REDIRECT_URIS = 20
MAX_URI_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class InvalidMetadata(ValueError):
    """A field of client metadata is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str) -> str:
    field = "redirect_uris"
    if not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidMetadata(field, f"must be 1 to {MAX_URI_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in uri) or "\\" in uri:
        raise InvalidMetadata(field, f"{uri!r} contains whitespace or control characters")
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidMetadata(field, f"{uri!r} is not a valid URI") from None
    if parts.scheme not in {"https", "http"} or not host:
        raise InvalidMetadata(field, f"{uri!r} must be an absolute https:// URI")
    if "#" in uri:
        raise InvalidMetadata(field, f"{uri!r} must not contain a fragment")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidMetadata(field, f"{uri!r} must not contain user information")
    if parts.scheme == "http" and not _is_loopback(host):
        raise InvalidMetadata(field, f"{uri!r}: http:// is allowed only for loopback hosts")
    return uri


def check_redirect_uris(uris: list[str]) -> list[str]:
    if not uris:
        raise InvalidMetadata("redirect_uris", "at least one redirect URI is required")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidMetadata("redirect_uris", f"at most {MAX_REDIRECT_URIS} redirect URIs")
    if len(set(uris)) != len(uris):
        raise InvalidMetadata("redirect_uris", "duplicate redirect URI")
    return [check_redirect_uri(uri) for uri in uris]


def check_optional_uri(field: str, uri: str) -> str:
    if not uri:
        return ""
    parts = urlsplit(uri)
    if parts.scheme not in {"https", "http"} or not parts.hostname or len(uri) > MAX_URI_LENGTH:
        raise InvalidMetadata(field, f"{uri!r} must be an absolute https:// URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InvalidMetadata(field, f"{uri!r} must use https://")
    return uri


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidMetadata("client_name", "must be 1 to 255 characters")
    return name
