"""``GET /admin/metrics``: the Prometheus exposition, for a scraper holding an admin API
token with the ``metrics:read`` scope (the management API's Bearer authentication,
:func:`oidc_core.admin.api.authenticate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from .. import metrics as metrics_format
from .. import responses
from . import api, scopes

if TYPE_CHECKING:
    from ..context import Context


def metrics(op: Context, request: Request) -> Response:
    try:
        if request.method not in ("GET", "HEAD"):
            raise api.ApiError(
                "use GET", error="method_not_allowed", status=405, headers={"Allow": "GET"}
            )
        api.authenticate(op, request, scopes.METRICS_READ)
    except api.ApiError as error:
        return api.error_response(error)
    response = Response(
        body=op.metrics.exposition().encode("utf-8"), content_type=None, charset=None
    )
    response.headers["Content-Type"] = metrics_format.CONTENT_TYPE
    response.headers.update(responses.NO_STORE)
    return response
