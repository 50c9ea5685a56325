"""The admin console (HTML, bundled) under ``/admin/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

if TYPE_CHECKING:
    from ..provider import Provider


def dispatch(op: Provider, request: Request) -> Response:
    return op.error_page("There is nothing at this address.", 404)
