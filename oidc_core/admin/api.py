"""The management API (JSON) under ``/admin/api/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses
from ..errors import ProviderError

if TYPE_CHECKING:
    from ..provider import Provider


def dispatch(op: Provider, request: Request) -> Response:
    return responses.error_json(ProviderError("not found", error="not_found", status=404))
