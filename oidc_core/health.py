"""Health checks for load balancers and orchestrators (``docs/deployment.md``).

``/health/live`` answers 200 as long as the process serves requests and never touches the
database; ``/health/ready`` answers 200 only when the database answers, its schema is
current and a signing key exists, else 503 with ``Retry-After`` and the reason (for the
schema, what to do: "run `oidc-core migrate`").  Neither is advertised in
discovery, neither is cached, and no failure shows more than a one-line reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from webob import Request, Response

from . import responses
from .errors import InvalidRequest
from .storage import StorageError

if TYPE_CHECKING:
    from .context import Context

log = logging.getLogger(__name__)

RETRY_AFTER = "5"


def live(op: Context, request: Request) -> Response:
    _check_method(request)
    return responses.json_response({"status": "ok"})


def ready(op: Context, request: Request) -> Response:
    _check_method(request)
    problem = _problem(op)
    if problem:
        log.warning("not ready: %s", problem)
        return responses.json_response(
            {"status": "unavailable", "reason": problem}, 503, headers={"Retry-After": RETRY_AFTER}
        )
    return responses.json_response({"status": "ok"})


def _problem(op: Context) -> str:
    """Why the provider cannot serve, or "" when it can."""
    storage = op.storage
    try:
        storage.ping()
        schema = storage.schema_problem()
        if schema is not None:
            return schema
        if not storage.keys.has_current():
            return "there is no current signing key"
    except StorageError:
        storage.close()  # a broken connection: the next request opens a new one
        return "the database is unreachable"
    return ""


def _check_method(request: Request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise InvalidRequest("use GET", status=405)
