"""Token revocation: RFC 7009.

The client authenticates as at the token endpoint (a public client sends its
``client_id``) and sends ``token`` and optionally ``token_type_hint``.  The answer is 200
with an empty body whether or not anything was revoked (unknown, expired or another
client's token: nothing changes).  Revoking a refresh token revokes its whole grant (every
access and refresh token issued from the same authorization code); revoking an access
token revokes only that token.  The hint only orders the lookup (section 2.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from .client_post import client_post

if TYPE_CHECKING:
    from ..context import Context


def revoke(op: Context, request: Request) -> Response:
    return client_post(op, request, "/revoke", op.server.revocation.create_revocation_response)
