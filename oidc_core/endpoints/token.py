"""Token endpoint: RFC 6749 sections 4.1.3 (code), 6 (refresh), 4.4 (client credentials)
and OpenID Connect Core 1.0 sections 3.1.3 and 12.

POST only, form-encoded, every parameter at most once (RFC 6749 3.2).  Client
authentication is ``client_secret_basic`` or ``client_secret_post``; a failure is 401
``invalid_client`` with ``WWW-Authenticate: Basic``, counted per client and address: too
many get 429 with ``Retry-After`` (:mod:`oidc_core.endpoints.client_post`).  Every answer
is JSON with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from ..errors import InvalidRequest, ProviderError
from .client_post import client_form, oauth_answer

if TYPE_CHECKING:
    from ..context import Context


def token(op: Context, request: Request) -> Response:
    pairs = client_form(op, request, "the token endpoint")
    if isinstance(pairs, Response):
        return pairs
    # RFC 6749 3.1 and 5.2: an empty grant_type is a missing one (invalid_request); any
    # other value than ours is unsupported (oauthlib would also accept "openid").
    grant_type = dict(pairs).get("grant_type", "")
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    if grant_type not in op.server.token.grant_types:
        raise ProviderError(
            "supported grants: authorization_code, refresh_token, client_credentials",
            error="unsupported_grant_type",
        )
    response = oauth_answer(
        op,
        request,
        "/token",
        op.server.token.create_token_response,
        pairs,
    )
    if response.status_int == 200:
        op.metrics.token_issued(grant_type)  # one of ours: a bounded label
    return response
