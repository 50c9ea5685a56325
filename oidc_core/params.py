"""Reading protocol parameters from a request, with the size and encoding limits applied."""

from __future__ import annotations

from urllib.parse import parse_qsl

from webob import Request

from .errors import InvalidRequest, PageError, RequestTooLarge

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_PARAMS = 100


def check_body_size(request: Request, limit: int) -> None:
    length = request.content_length
    if length is not None and length > limit:
        raise RequestTooLarge(f"request body larger than {limit} bytes")


def _pairs(request: Request, *, body: bool) -> list[tuple[str, str]]:
    try:
        if body:
            # Not request.POST: WebOb decodes a form body with errors="replace".
            text = request.body.decode("utf-8")
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


def posted_form(request: Request, max_length: int) -> dict[str, list[str]]:
    """A page's posted form (``application/x-www-form-urlencoded``) as name -> values;
    a bad body raises :class:`PageError`."""
    form: dict[str, list[str]] = {}
    for key, value in form_params(request, max_length, body=True, page=True):
        form.setdefault(key, []).append(value)
    return form


def first(form: dict[str, list[str]], name: str) -> str:
    """The first value of ``name`` in a posted form, "" when absent."""
    values = form.get(name)
    return values[0] if values else ""


def duplicated(pairs: list[tuple[str, str]]) -> set[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for key, _ in pairs:
        (dupes if key in seen else seen).add(key)
    return dupes
