"""Reading protocol parameters from a request, with the size and encoding limits applied."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from webob import Request
from webob.request import DisconnectionError

from .errors import InvalidRequest, PageError, RequestTooLarge

FORM_TYPE = "application/x-www-form-urlencoded"
# What a handler found out about the client of a request, for CORS (``cors.py``) to read.
CLIENT_ID_KEY = "oidc_core.client_id"
MAX_PARAMS = 100
# Request headers that a WSGI server passes outside HTTP_*.
_UNPREFIXED_HEADERS = (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length"))


def check_url_length(environ: dict[str, Any], limit: int) -> None:
    """The request target (path and query) is at most ``limit`` bytes (414 beyond)."""
    target = (
        len(environ.get("SCRIPT_NAME", ""))
        + len(environ.get("PATH_INFO", ""))
        + len(environ.get("QUERY_STRING", ""))
    )
    if target > limit:
        raise RequestTooLarge(f"the request URL is too long (over {limit} bytes)", status=414)


def header_bytes(environ: dict[str, Any]) -> int:
    """The size of the request's header names and values, as the WSGI server passed them."""
    total = sum(
        len(key) - 5 + len(value)  # the name without "HTTP_"
        for key, value in environ.items()
        if key[:5] == "HTTP_" and isinstance(value, str)
    )
    for key, name in _UNPREFIXED_HEADERS:
        value = environ.get(key)
        if isinstance(value, str) and value:
            total += len(name) + len(value)
    return total


def check_header_size(environ: dict[str, Any], limit: int) -> None:
    """The headers total at most ``limit`` bytes (431 Request Header Fields Too Large)."""
    if header_bytes(environ) > limit:
        raise RequestTooLarge(f"the request headers are too large (over {limit} bytes)", status=431)


def check_body_size(request: Request, limit: int) -> None:
    """The body is at most ``limit`` bytes (413 beyond), read no further than that.

    A declared Content-Length is checked before anything is read.  A body without one
    (``Transfer-Encoding: chunked``) is read up to ``limit + 1`` bytes and kept in memory.
    A refused body is replaced by an empty one, so nothing later reads the rest of it.
    """
    length = request.content_length
    if length is None and request.is_body_readable:
        head = request.body_file_raw.read(limit + 1)
        if len(head) <= limit:
            request.body = head  # now with a Content-Length, in memory
            return
        length = len(head)
    if length is not None and length > limit:
        request.body = b""
        raise RequestTooLarge(f"request body larger than {limit} bytes")


def request_body(request: Request) -> bytes:
    """The request's body, read once and kept in memory as WebOb's ``request.body`` would
    keep it, without its copy through a seekable buffer first (that copy cost a tenth of
    a token request's Python work).  A body shorter than its Content-Length raises
    WebOb's ``DisconnectionError``, as ``request.body`` does."""
    length = request.content_length
    if request.is_body_seekable or not length or not request.is_body_readable:
        return request.body  # type: ignore[no-any-return]
    source, chunks = request.body_file, []  # limited to Content-Length by WebOb
    while length > 0:
        chunk = source.read(length)
        if not chunk:  # already read in part by someone else: never wait for more
            raise DisconnectionError(f"{length} more bytes of the body were expected")
        chunks.append(chunk)
        length -= len(chunk)
    data = b"".join(chunks)
    request.body = data  # now seekable: a second reader gets the same bytes
    return data


def _pairs(request: Request, *, body: bool) -> list[tuple[str, str]]:
    try:
        if body:
            # Not request.POST: WebOb decodes a form body with errors="replace".
            text = request_body(request).decode("utf-8")
            if text.count("&") >= MAX_PARAMS:  # before parsing thousands of them
                raise InvalidRequest("too many parameters")
            return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        return [(str(k), str(v)) for k, v in request.GET.items()]
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("parameters are not valid UTF-8 form encoding") from None


def form_params(
    request: Request, max_length: int, *, body: bool, page: bool = False
) -> list[tuple[str, str]]:
    """Parameters of the query (``body=False``) or form body, validated for size.

    ``page=True`` raises :class:`PageError` (shown to the user, never redirected).
    """
    error = PageError if page else InvalidRequest
    if body and request.content_type != FORM_TYPE:
        raise error(f"the request body must be {FORM_TYPE}")
    try:
        pairs = _pairs(request, body=body)
    except InvalidRequest as exc:
        raise error(exc.description) from None
    if len(pairs) > MAX_PARAMS:
        raise error("too many parameters")
    for key, value in pairs:
        if len(value) > max_length or len(key) > 64:
            raise error(f"parameter {key[:64]!r} is too long")
        if "\x00" in value:
            raise error(f"parameter {key[:64]!r} contains a NUL character")
    return pairs


def basic_credentials(header: str) -> tuple[str, str | None] | None:
    """RFC 6749 2.3.1: the client_id and secret of an HTTP Basic ``Authorization`` header,
    each form-urlencoded first; None when the header is not Basic, a None secret when the
    decoded value has no colon.  Raises ``ValueError`` when it is not base64 of UTF-8."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    # binascii.Error and UnicodeDecodeError are both ValueErrors
    decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    client_id, sep, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret) if sep else None


def record_client_id(request: Request, client_id: str) -> None:
    """Note the client a request is for (the ``client_id`` it names; at UserInfo, the
    client of its live access token), so that CORS need not look it up again."""
    request.environ[CLIENT_ID_KEY] = client_id


def recorded_client_id(request: Request) -> str:
    """The client noted by :func:`record_client_id`; "" when none was."""
    return str(request.environ.get(CLIENT_ID_KEY, ""))


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def posted_form(request: Request, max_length: int) -> dict[str, list[str]]:
    """A page's posted form (``application/x-www-form-urlencoded``) as name -> values;
    a bad body raises :class:`PageError`."""
    return _grouped(form_params(request, max_length, body=True, page=True))


def query_form(request: Request, max_length: int) -> dict[str, list[str]]:
    """A page's query string as name -> values; a query that is not UTF-8 (or has a NUL,
    a value over ``max_length``, too many parameters) raises :class:`PageError`."""
    return _grouped(form_params(request, max_length, body=False, page=True))


def first(form: dict[str, list[str]], name: str) -> str:
    """The first value of ``name`` in a posted form, "" when absent."""
    values = form.get(name)
    return values[0] if values else ""


def single(form: dict[str, list[str]], name: str) -> str:
    """The value of ``name``, a parameter that decides what a form may do (``csrf_token``,
    ``decision``, ``interaction``), "" when absent.  Sent twice it is refused
    (:class:`PageError`, 400): no two readers can then disagree on which one counts."""
    values = form.get(name)
    if not values:
        return ""
    if len(values) > 1:
        raise PageError(f"parameter {name[:64]!r} is repeated")
    return values[0]


def duplicated(pairs: list[tuple[str, str]]) -> set[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for key, _ in pairs:
        (dupes if key in seen else seen).add(key)
    return dupes
