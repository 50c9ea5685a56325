"""Every response the provider sends is built here: JSON, HTML pages, redirects, errors.

Handlers return complete :class:`webob.Response` objects; adapters copy them verbatim.
Sensitive responses carry ``Cache-Control: no-store``; HTML pages carry the framing,
referrer and content-security headers of RFC 9700 section 4.16 and 4.2.4.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from webob import Response

from .errors import ProviderError
from .netloc import is_loopback_host

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Set by oauth_json whatever oauthlib said (Content-Length follows the body).
_OURS = frozenset({"content-type", "content-length", "cache-control", "pragma"})
_HTML_LANG = re.compile(
    r'\s*<!doctype html>\s*<html lang="([A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*)"', re.IGNORECASE
)
_NETLOC = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def json_response(
    data: Any, status: int = 200, *, cache: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """JSON body; ``no-store`` unless a public ``cache`` policy is given."""
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return json_body_response(body, status, cache=cache, headers=headers)


def json_body_response(
    body: bytes,
    status: int = 200,
    *,
    cache: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """:func:`json_response` of a body already serialized (one built once and kept)."""
    fields = {"Content-Type": "application/json"}
    fields.update(NO_STORE if cache is None else {"Cache-Control": cache})
    if headers:
        fields.update(headers)
    return _response(body, status, fields)


def oauth_json(headers: dict[str, str], body: str | None, status: int) -> Response:
    """An oauthlib ``(headers, body, status)`` triple as a JSON response."""
    fields = {name: value for name, value in headers.items() if name.lower() not in _OURS}
    fields.update({"Content-Type": "application/json", **NO_STORE})
    return _response((body or "").encode("utf-8"), status, fields)


def _response(body: bytes, status: int, headers: dict[str, str]) -> Response:
    # One header list built up front: every ``response.headers[...] = `` scans the list.
    return Response(body=body, status=status, headerlist=list(headers.items()), charset=None)


def error_json(error: ProviderError, headers: dict[str, str] | None = None) -> Response:
    body = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    response = json_response(body, error.status, headers=headers)
    if error.status == 503:
        response.headers["Retry-After"] = "5"
    return response


def html_page(
    body: str,
    status: int = 200,
    *,
    no_store: bool = True,
    form_redirects_to: str = "",
    images_from: Iterable[str] = (),
    scripts: bool = False,
) -> Response:
    """A page with the security headers.  ``form_redirects_to``: the URI a form of the page
    may end up at through redirects (the client's redirect URI after login or consent):
    CSP ``form-action`` covers the redirects after a submission, so its origin is allowed
    besides ours, or browsers block the way back to the client.  ``images_from``: the
    absolute URLs of the clients' logos the page shows: ``img-src`` allows ours, ``https:``
    and ``data:``; an ``http://`` logo on a loopback host (registration accepts it, for
    development) has its origin added, or browsers would not show it.
    ``Content-Language`` is the language the page declares in its ``<html lang>`` (the
    language it was rendered in).  ``scripts``: the page runs our own script files (never
    inline script) and lets them call our endpoints (the passkey pages)."""
    response = Response(body=body.encode("utf-8"), status=status, content_type="text/html")
    response.headers.update(SECURITY_HEADERS)
    language = _HTML_LANG.match(body)
    if language:
        response.headers["Content-Language"] = language.group(1)
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    origin = _origin(form_redirects_to)
    if origin:
        policy = policy.replace("form-action 'self'", f"form-action 'self' {origin}")
    images = _loopback_http_origins(images_from)
    if images:
        policy = policy.replace(
            "img-src 'self' https: data:", " ".join(["img-src 'self' https: data:", *images])
        )
    if scripts:
        policy += "; script-src 'self'; connect-src 'self'"
    response.headers["Content-Security-Policy"] = policy
    if no_store:
        response.headers.update(NO_STORE)
    return response


def failure_text(status: int, correlation_id: str) -> Response:
    """The last answer to a failure whose error page failed too (a template override broken
    while the provider runs): a line of text with the correlation id of the log's lines."""
    body = f"Something went wrong (correlation id {correlation_id}).\n".encode("ascii")
    headers = {"Content-Type": "text/plain; charset=utf-8", **SECURITY_HEADERS, **NO_STORE}
    return _response(body, status, headers)


# An SVG opened on its own is a document: it may run nothing and load nothing.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
TEXT_TYPES = ("text/css", "text/javascript")


def static_file(body: bytes, content_type: str) -> Response:
    """A file under ``/static/`` (stylesheets, scripts, the brand's images): cacheable for
    an hour, never sniffed as another type; an SVG image with a policy that runs no script."""
    headers = {
        "Content-Type": content_type + ("; charset=utf-8" if content_type in TEXT_TYPES else ""),
        "Cache-Control": "max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if content_type == "image/svg+xml":
        headers["Content-Security-Policy"] = SVG_POLICY
    return _response(body, 200, headers)


def _loopback_http_origins(uris: Iterable[str]) -> list[str]:
    """The origins of the ``http://`` URIs on a loopback host, once each, in order."""
    found: list[str] = []
    for uri in uris:
        parts = urlsplit(uri)
        origin = _origin(uri)
        loopback = is_loopback_host(parts.hostname or "")
        if parts.scheme == "http" and loopback and origin and origin not in found:
            found.append(origin)
    return found


def _origin(uri: str) -> str:
    """``scheme://host[:port]`` of an absolute http(s) URI, or "" (nothing to allow)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not _NETLOC.fullmatch(parts.netloc):
        return ""  # nothing that could break out of the header's syntax
    return f"{parts.scheme}://{parts.netloc}"


def redirect(location: str, status: int = 303) -> Response:
    """A redirect to an absolute location we built (never from unvalidated input)."""
    response = Response(status=status)
    response.headers["Location"] = location
    response.headers.update(NO_STORE)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def append_params(uri: str, params: Iterable[tuple[str, str | None]]) -> str:
    """Append query parameters (None values skipped) to a registered redirect URI as is."""
    encoded = urlencode([(k, v) for k, v in params if v is not None])
    if not encoded:
        return uri
    return uri + ("&" if "?" in uri else "?") + encoded
