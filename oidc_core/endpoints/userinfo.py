"""UserInfo endpoint: OpenID Connect Core 1.0 section 5.3, errors per RFC 6750 section 3.

The access token comes in the ``Authorization: Bearer`` header (GET or POST) or as a
form-encoded ``access_token`` body parameter (POST); never in the URL query (RFC 6750
2.3 "SHOULD NOT", refused here) and never by two methods at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from .. import responses
from ..bearer import look_up
from ..errors import InvalidRequest, InvalidToken, ProviderError
from ..params import FORM_TYPE, form_params, record_client_id

if TYPE_CHECKING:
    from ..context import Context


def _challenge(error: ProviderError | None) -> dict[str, str]:
    if error is None:
        return {"WWW-Authenticate": 'Bearer realm="oidc-core"'}
    value = f'Bearer realm="oidc-core", error="{error.error}"'
    if error.description:
        value += f', error_description="{error.description}"'
    return {"WWW-Authenticate": value}


def _fail(error: ProviderError, *, token_sent: bool) -> Response:
    return responses.error_json(error, headers=_challenge(error if token_sent else None))


def userinfo(op: Context, request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return responses.error_json(
            InvalidRequest("use GET or POST", status=405), headers={"Allow": "GET, POST"}
        )
    if "access_token" in request.GET:
        return _fail(
            InvalidRequest("send the access token in the Authorization header"), token_sent=True
        )
    header = request.headers.get("Authorization", "")
    sent: list[str] = []
    if request.method == "POST" and request.content_type == FORM_TYPE:
        try:
            pairs = form_params(request, op.settings.max_param_length, body=True)
        except InvalidRequest as error:  # RFC 6750 3.1: a malformed request is a 400
            return _fail(error, token_sent=True)
        sent = [value for key, value in pairs if key == "access_token"]
        if len(sent) > 1 or (sent and header):
            return _fail(InvalidRequest("use one way to send the access token"), token_sent=True)
    token_sent = bool(header) or bool(sent)
    if not token_sent:
        return responses.error_json(
            ProviderError("an access token is required", error="invalid_request", status=401),
            headers=_challenge(None),
        )
    if header and header.split(" ", 1)[0].lower() != "bearer":
        return _fail(InvalidToken("use the Bearer scheme"), token_sent=True)
    token = _bearer(header) if header else (sent[0] if sent else "")
    # One look-up decides, as for the host's own API (bearer.py); the client it names is
    # noted for CORS.  A client credentials token has no user to describe.
    found = look_up(op.storage, op.accounts, token)
    if found is not None:
        record_client_id(request, found.grant.client_id)
    user = found.grant.user if found is not None else None
    if found is None or user is None or found.account is None:
        return _fail(InvalidToken("the access token is invalid or expired"), token_sent=True)
    if "openid" not in found.grant.scopes:
        return _fail(
            ProviderError(
                "the token lacks the openid scope", error="insufficient_scope", status=403
            ),
            token_sent=True,
        )
    # OIDC Core 8: the sub the token's client sees (pairwise for a pairwise client)
    claims = op.accounts.claims_of(found.account, user, found.grant.scopes, found.grant)
    return responses.json_response(claims)


def _bearer(header: str) -> str:
    """The token of ``Authorization: Bearer <token>``; "" when the header is malformed."""
    parts = header.split()
    return parts[1] if len(parts) == 2 and parts[0].lower() == "bearer" else ""
