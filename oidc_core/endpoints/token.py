"""Token endpoint: RFC 6749 sections 4.1.3 (code), 6 (refresh), 4.4 (client credentials)
and OpenID Connect Core 1.0 sections 3.1.3 and 12.

POST only, form-encoded, every parameter at most once (RFC 6749 3.2).  Client
authentication is ``client_secret_basic`` or ``client_secret_post``; a failure is 401
``invalid_client`` with ``WWW-Authenticate: Basic``.  Every answer is JSON with
``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oauthlib.oauth2.rfc6749 import errors
from webob import Request, Response

from .. import responses
from ..errors import InvalidRequest, ProviderError
from ..params import FORM_TYPE, duplicated, form_params

if TYPE_CHECKING:
    from ..provider import Provider

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="oidc-core", charset="UTF-8"'}


def token(op: Provider, request: Request) -> Response:
    if request.method != "POST":
        return responses.error_json(
            InvalidRequest("the token endpoint accepts POST only", status=405),
            headers={"Allow": "POST"},
        )
    if request.query_string:
        raise InvalidRequest("parameters must be sent in the request body, not the URL")
    pairs = form_params(request, op.settings.max_param_length, body=True)
    repeated = duplicated(pairs)
    if repeated:
        raise InvalidRequest(f"parameter {sorted(repeated)[0]!r} appears more than once")
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
    headers = {"Content-Type": FORM_TYPE}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"]
    try:
        result = op.server.token.create_token_response(
            op.url("/token"), "POST", request.body.decode("utf-8"), headers
        )
    except errors.OAuth2Error as error:
        result = ({}, error.json, error.status_code)
    out_headers, body, status = result
    response = responses.oauth_json(
        {k: v for k, v in out_headers.items() if k != "WWW-Authenticate"}, body, status
    )
    if status == 401:
        response.headers.update(BASIC_CHALLENGE)
    return response
