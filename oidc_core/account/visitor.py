"""Pages for a visitor who is not signed in (the links sent by email): their forms carry
a CSRF token of the browser's session (one is started for a browser without), and a POST
without it changes nothing (403)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from webob import Request, Response

from .. import responses
from ..interactions import sign_in
from ..interactions.browser import EXPIRED_FORM, csrf_valid
from ..params import posted_form, query_form, single
from ..ui.translations import Message

if TYPE_CHECKING:
    from ..context import Context

TOKEN_LENGTH = 256  # characters: a token is 43; a longer value is refused (400)


def form_page(
    op: Context, request: Request, template: str, purpose: str, status: int = 200, **context: Any
) -> Response:
    """``template`` with a CSRF token for ``purpose``, in the browser's language."""
    session = op.browser.current(request)
    return sign_in.login_form(op, session, template, purpose, status, request=request, **context)


def posted(op: Context, request: Request, purpose: str) -> dict[str, list[str]] | Response:
    """The POST's fields once its CSRF token for ``purpose`` is valid; else a 403 page."""
    session = op.browser.current(request)
    fields = posted_form(request, op.settings.password_max_length + 64)
    if session is None or not csrf_valid(session, purpose, single(fields, "csrf_token")):
        return op.error_page(EXPIRED_FORM, 403, request=request)
    return fields


def query_value(request: Request, name: str) -> str:
    """A short parameter of the query string ("" when absent; 400 when malformed)."""
    return single(query_form(request, TOKEN_LENGTH), name)


def token_of(request: Request, fields: dict[str, list[str]] | None = None) -> str:
    """The link's token: from the query (GET) or from the posted form."""
    return single(query_form(request, TOKEN_LENGTH) if fields is None else fields, "token")


def link_result(
    op: Context,
    request: Request,
    message: str | Message,
    status: int,
    *,
    next_url: str = "",
    next_label: str = "",
) -> Response:
    """A page saying what a link did (or why it did nothing), with a way on."""
    page = op.render(
        "account_link_result.html",
        request=request,
        message=message,
        next_url=next_url,
        next_label=next_label,
    )
    return responses.html_page(page, status)
