"""The shape shared by the endpoints a client POSTs to with its credentials (RFC 7009,
RFC 7662): POST only, form-encoded body, no query string, every parameter at most once;
an oauthlib ``(headers, body, status)`` answer becomes JSON with ``Cache-Control:
no-store`` and, on 401, a ``Basic`` challenge (RFC 6749 section 5.2).

Failed client authentication (``invalid_client``, here and at the token endpoint) is
counted per client_id and address (:mod:`oidc_core.throttle`); while locked, the answer is
429 with ``Retry-After`` and ``{"error": "invalid_client", "error_description": "too many
failed attempts; try again later"}``, without checking the credentials.  RFC 6749 has no
error code for rate limiting at the token endpoint (``slow_down`` belongs to the device
grant, ``temporarily_unavailable`` to the authorization endpoint); ``invalid_client``
keeps a client's handling of an authentication failure, the status and ``Retry-After``
say when to try again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oauthlib.oauth2.rfc6749 import errors
from webob import Request, Response

from .. import responses
from ..errors import InvalidClient, InvalidRequest
from ..params import FORM_TYPE, basic_credentials, duplicated, form_params, record_client_id

if TYPE_CHECKING:
    from ..context import Context

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="oidc-core", charset="UTF-8"'}

OAuthCall = Callable[
    [str, str, list[tuple[str, str]], dict[str, str]], tuple[dict[str, str], Any, int]
]


def client_post(op: Context, request: Request, path: str, call: OAuthCall) -> Response:
    """Check the request's form, hand it to oauthlib's ``call``, answer in JSON."""
    form = client_form(op, request, path)
    if isinstance(form, Response):
        return form
    return oauth_answer(op, request, path, call, form)


def client_form(op: Context, request: Request, name: str) -> list[tuple[str, str]] | Response:
    """The form a client POSTs to the endpoint ``name``: form-encoded body, no query
    string, every parameter at most once (raises ``InvalidRequest``); the 405 answer
    when the request is not a POST."""
    if request.method != "POST":
        return responses.error_json(
            InvalidRequest(f"{name} accepts POST only", status=405), headers={"Allow": "POST"}
        )
    in_url = "parameters must be sent in the request body, not the URL"
    try:
        pairs = form_params(request, op.settings.max_param_length, body=True)
    except InvalidRequest:
        if request.query_string:  # the first error stays the first
            raise InvalidRequest(in_url) from None
        raise
    # For CORS: the client a public client names (once) in the body.
    named = [value for key, value in pairs if key == "client_id"]
    record_client_id(request, named[0] if len(named) == 1 else "")
    if request.query_string:
        raise InvalidRequest(in_url)
    repeated = duplicated(pairs)
    if repeated:
        raise InvalidRequest(f"parameter {sorted(repeated)[0]!r} appears more than once")
    return pairs


def oauth_answer(
    op: Context, request: Request, path: str, call: OAuthCall, pairs: list[tuple[str, str]]
) -> Response:
    """oauthlib's answer to a checked client request (``pairs``: its form, parsed once and
    handed to oauthlib as it is), with failed client authentication counted and locked per
    client_id (the one it claims) and address."""
    client_id = _basic_client_id(request) or dict(pairs).get("client_id", "")
    address = op.client_address(request)
    locked_for, has_failures = op.throttle.client_lock(client_id, address)
    if locked_for:
        op.throttle.client_failed(client_id, address)
        return responses.error_json(
            InvalidClient("too many failed attempts; try again later", status=429),
            headers={"Retry-After": str(locked_for)},
        )
    headers = {"Content-Type": FORM_TYPE}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers["Authorization"]
    try:
        out_headers, body, status = call(op.url(path), "POST", pairs, headers)
    except errors.OAuth2Error as error:
        out_headers, body, status = {}, error.json, error.status_code
    response = responses.oauth_json(
        {k: v for k, v in out_headers.items() if k != "WWW-Authenticate"}, body, status
    )
    if status == 401:
        response.headers.update(BASIC_CHALLENGE)
        op.throttle.client_failed(client_id, address)
    elif has_failures:
        op.throttle.client_succeeded(client_id, address)
    return response


def _basic_client_id(request: Request) -> str:
    """The client_id of an HTTP Basic ``Authorization`` header (RFC 6749 2.3.1), or "";
    only to name the counter: the validator checks the header."""
    try:
        basic = basic_credentials(str(request.headers.get("Authorization", "")))
    except ValueError:
        return ""
    return basic[0] if basic else ""
