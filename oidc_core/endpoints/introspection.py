"""Token introspection: RFC 7662.

Only a confidential client that authenticates (``client_secret_basic`` or
``client_secret_post``) may ask, and only about its own tokens: for any other token,
unknown, expired, revoked, used or another client's, the answer is ``{"active": false}``.
An active token is described by ``active``, ``scope``, ``client_id``, ``sub`` (absent for a
client credentials token), ``exp``, ``iat``, ``iss`` and, for an access token,
``token_type: Bearer``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from .client_post import client_post

if TYPE_CHECKING:
    from ..context import Context


def introspect(op: Context, request: Request) -> Response:
    return client_post(
        op, request, "/introspect", op.server.introspection.create_introspect_response
    )
