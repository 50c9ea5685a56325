"""The shape shared by the endpoints a client POSTs to with its credentials (RFC 7009,
RFC 7662): POST only, form-encoded body, no query string, every parameter at most once;
an oauthlib ``(headers, body, status)`` answer becomes JSON with ``Cache-Control:
no-store`` and, on 401, a ``Basic`` challenge (RFC 6749 section 5.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oauthlib.oauth2.rfc6749 import errors
from webob import Request, Response

from .. import responses
from ..errors import InvalidRequest
from ..params import FORM_TYPE, duplicated, form_params

if TYPE_CHECKING:
    from ..provider import Provider

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="oidc-core", charset="UTF-8"'}

OAuthCall = Callable[[str, str, str, dict[str, str]], tuple[dict[str, str], Any, int]]


def client_post(op: Provider, request: Request, path: str, call: OAuthCall) -> Response:
    """Check the request's form, hand it to oauthlib's ``call``, answer in JSON."""
    if request.method != "POST":
        return responses.error_json(
            InvalidRequest(f"{path} accepts POST only", status=405), headers={"Allow": "POST"}
        )
    if request.query_string:
        raise InvalidRequest("parameters must be sent in the request body, not the URL")
    pairs = form_params(request, op.settings.max_param_length, body=True)
    repeated = duplicated(pairs)
    if repeated:
        raise InvalidRequest(f"parameter {sorted(repeated)[0]!r} appears more than once")
    headers = {"Content-Type": FORM_TYPE}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"]
    try:
        out_headers, body, status = call(
            op.url(path), "POST", request.body.decode("utf-8"), headers
        )
    except errors.OAuth2Error as error:
        out_headers, body, status = {}, error.json, error.status_code
    response = responses.oauth_json(
        {k: v for k, v in out_headers.items() if k != "WWW-Authenticate"}, body, status
    )
    if status == 401:
        response.headers.update(BASIC_CHALLENGE)
    return response
