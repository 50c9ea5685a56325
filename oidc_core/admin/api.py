"""The management API: JSON under ``/admin/api/``, for provisioning scripts.

Create, list, read, update (with secret reset) and delete clients: the operations of the CLI
and the console, done by the same :class:`~oidc_core.admin.service.ClientAdmin`.  Create,
list, read users and change their status and flags (:mod:`oidc_core.admin.users`); a
user's address is ``users/{sub}`` or ``users/{email}``, and a rejected field is answered
400 ``invalid_request`` with the ``field`` named.  Client
metadata uses the RFC 7591 section 2 names; a rejected field is answered 400 with the
RFC 7591 section 3.2.2 code (``invalid_redirect_uri``, ``invalid_client_metadata``) and the
``field`` named.  Callers present an admin API token as a Bearer token (RFC 6750 section
2.1); the audit log names them ``api-token:<id> (<name>)``.  Each operation needs a scope
of the token (:mod:`oidc_core.admin.scopes`), stated next to it in ``ROUTES``: a token
without it is answered 403 ``insufficient_scope`` (RFC 6750 section 3.1) before anything
is read or changed.  Initial access tokens (RFC 7591 section 3) are issued, listed and
revoked under ``initial-access-tokens`` (:mod:`oidc_core.admin.initial_tokens`); the audit
log is read under ``audit``.

Cross-origin writes (SECURITY-CHECKLIST T-60): credentials are never cookies, no CORS header
is ever sent, and a request body must be ``application/json`` (415 otherwise), which neither
an HTML form nor a CORS "simple" request can send.

The OpenAPI 3.1 description (:mod:`oidc_core.admin.openapi`) is served without
authentication at ``/admin/api/openapi.json``; ``ROUTES`` below is what it describes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from webob import Request, Response

from .. import registration, responses
from ..errors import ProviderError
from ..records import AdminToken
from . import initial_tokens, openapi, scopes, users
from .service import ClientNotFound

if TYPE_CHECKING:
    from ..context import Context

PREFIX = "/admin/api"
JSON_TYPE = "application/json"
REALM = "oidc-core admin"
LIST_PARAMS = ("q", "sort", "limit", "offset")
USER_LIST_PARAMS = ("q", "status", "limit", "offset")
PAGE_PARAMS = ("limit", "offset")
MAX_QUERY_TEXT = 255
# Fields that are about the request rather than client metadata: errors are invalid_request.
REQUEST_FIELDS = frozenset({*LIST_PARAMS, "reset_secret", "grace_seconds"})
PUBLIC = ""  # the scope of an operation that needs no token


@dataclass(frozen=True)
class Call:
    """One API request: the provider, the request, who makes it, the key in its path (a
    client_id, or a user's sub or email)."""

    op: Context
    request: Request
    actor: str
    key: str = ""
    scopes: tuple[str, ...] = ()  # the token's

    @property
    def client_id(self) -> str:
        return self.key


Handler = Callable[[Call], Response]


class ApiError(ProviderError):
    """An error answered as JSON; ``field`` names the offending field or parameter."""

    def __init__(
        self,
        description: str,
        *,
        error: str = "invalid_request",
        status: int = 400,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            f"{field}: {description}" if field else description, error=error, status=status
        )
        self.field = field
        self.headers = headers or {}


# -- the operations -------------------------------------------------------------------------


def list_clients(call: Call) -> Response:
    text, sort, limit, offset = _list_params(call.request)
    found = call.op.clients.search(text, sort, limit, offset)
    clients = [registration.client_metadata(client, used) for client, used in found]
    return responses.json_response({"clients": clients})


def _check_admin_fields(call: Call, data: dict[str, Any]) -> None:
    """Consent, a second factor and token lifetimes are an administrator's decision: a
    token that may only manage clients (a server's provisioning script) cannot set them."""
    if any(key in data for key in registration.ADMIN_ONLY) and not scopes.allows(
        call.scopes, scopes.ADMIN
    ):
        raise _insufficient_scope(scopes.ADMIN, ", ".join(registration.ADMIN_ONLY))


def create_client(call: Call) -> Response:
    data = _body(call.request)
    _check_admin_fields(call, data)
    client, secret = call.op.clients.create(data, call.actor)
    location = call.op.url(f"{PREFIX}/clients/{quote(client.client_id, safe='')}")
    body = {**registration.client_metadata(client), "client_secret": secret}
    return responses.json_response(body, 201, headers={"Location": location})


def get_client(call: Call) -> Response:
    clients = call.op.clients
    return responses.json_response(clients.described(clients.get(call.client_id)))


def update_client(call: Call) -> Response:
    data = _body(call.request)
    _check_admin_fields(call, data)
    reset = data.pop("reset_secret", False)
    if not isinstance(reset, bool):
        raise registration.InvalidMetadata("reset_secret", "must be true or false")
    grace = data.pop("grace_seconds", 0)
    if not data and not reset:
        raise ApiError("nothing to change: give at least one field, or reset_secret")
    # Read first: nothing may fail after a reset commits, or its secret would be lost.
    used = call.op.clients.last_used(call.client_id)
    client, secret = call.op.clients.change(
        call.client_id, data, call.actor, reset_secret=reset, grace_seconds=grace
    )
    body = registration.client_metadata(client, used)
    if secret is not None:
        body["client_secret"] = secret
    return responses.json_response(body)


def delete_client(call: Call) -> Response:
    call.op.clients.delete(call.client_id, call.actor)
    response = Response(status=204)
    response.headers.update(responses.NO_STORE)
    return response


def list_users(call: Call) -> Response:
    params = _query(call.request, USER_LIST_PARAMS)
    found = users.search(
        call.op,
        _search_text(params),
        params.get("status", ""),
        _whole(params, "limit", 100),
        _whole(params, "offset", 0),
    )
    return responses.json_response({"users": [users.described(user) for user in found]})


def create_user(call: Call) -> Response:
    user = users.create(call.op, _body(call.request), call.actor)
    location = call.op.url(f"{PREFIX}/users/{quote(user.subject, safe='')}")
    return responses.json_response(users.described(user), 201, headers={"Location": location})


def get_user(call: Call) -> Response:
    return responses.json_response(users.described(users.find(call.op, call.key)))


def update_user(call: Call) -> Response:
    user = users.change(call.op, call.key, _body(call.request), call.actor)
    return responses.json_response(users.described(user))


def list_audit(call: Call) -> Response:
    """The audit log, newest first, as the console's audit page shows it (never a secret:
    none is ever written to it)."""
    params = _query(call.request, PAGE_PARAMS)
    found = call.op.clients.audit_log(_whole(params, "limit", 100), _whole(params, "offset", 0))
    return responses.json_response({"entries": [vars(entry) for entry in found]})


def create_initial_token(call: Call) -> Response:
    request = initial_tokens.checked(_body(call.request))
    token, value = initial_tokens.issue(call.op.storage, request, call.actor)
    location = call.op.url(f"{PREFIX}/initial-access-tokens/{token.id}")
    body = {**initial_tokens.described(token), "token": value}
    return responses.json_response(body, 201, headers={"Location": location})


def list_initial_tokens(call: Call) -> Response:
    _query(call.request, ())
    found = call.op.storage.initial_access_tokens.all()
    return responses.json_response({"tokens": [initial_tokens.described(t) for t in found]})


def revoke_initial_token(call: Call) -> Response:
    key = call.key
    if not (key.isascii() and key.isdigit() and len(key) <= 18):
        raise initial_tokens.TokenNotFound(key)
    initial_tokens.revoke(call.op.storage, int(key), call.actor)
    response = Response(status=204)
    response.headers.update(responses.NO_STORE)
    return response


def openapi_document(call: Call) -> Response:
    return responses.json_response(openapi.document(call.op.settings.issuer, ROUTES))


@dataclass(frozen=True)
class Operation:
    """What a method on a path needs (a token scope; :data:`PUBLIC`: no token) and does."""

    scope: str
    handler: Handler


READ, WRITE = scopes.CLIENTS_READ, scopes.CLIENTS_WRITE
# path template -> method -> operation.  The OpenAPI document describes exactly these.
ROUTES: dict[str, dict[str, Operation]] = {
    f"{PREFIX}/clients": {
        "GET": Operation(READ, list_clients),
        "POST": Operation(WRITE, create_client),
    },
    f"{PREFIX}/clients/{{client_id}}": {
        "GET": Operation(READ, get_client),
        "PATCH": Operation(WRITE, update_client),
        "DELETE": Operation(WRITE, delete_client),
    },
    f"{PREFIX}/initial-access-tokens": {
        "GET": Operation(READ, list_initial_tokens),
        "POST": Operation(WRITE, create_initial_token),
    },
    f"{PREFIX}/initial-access-tokens/{{token_id}}": {
        "DELETE": Operation(WRITE, revoke_initial_token),
    },
    f"{PREFIX}/users": {
        "GET": Operation(scopes.ADMIN, list_users),
        "POST": Operation(scopes.ADMIN, create_user),
    },
    f"{PREFIX}/users/{{key}}": {
        "GET": Operation(scopes.ADMIN, get_user),
        "PATCH": Operation(scopes.ADMIN, update_user),
    },
    f"{PREFIX}/audit": {"GET": Operation(scopes.AUDIT_READ, list_audit)},
    f"{PREFIX}/openapi.json": {"GET": Operation(PUBLIC, openapi_document)},
}
UNAUTHENTICATED = frozenset(
    path for path, methods in ROUTES.items() if all(o.scope == PUBLIC for o in methods.values())
)


# -- dispatch -------------------------------------------------------------------------------


def dispatch(op: Context, request: Request) -> Response:
    try:
        return _dispatch(op, request)
    except registration.InvalidMetadata as exc:
        return error_response(
            ApiError(
                exc.message,
                error=registration.error_code(exc.field, REQUEST_FIELDS),
                field=exc.field,
            )
        )
    except ClientNotFound:
        return error_response(
            ApiError("no client with this client_id", error="not_found", status=404)
        )
    except users.InvalidUserField as exc:
        return error_response(ApiError(exc.message, field=exc.field))
    except users.UserNotFound:
        return error_response(
            ApiError("no user with this sub or email", error="not_found", status=404)
        )
    except initial_tokens.InvalidTokenField as exc:
        return error_response(ApiError(exc.message, field=exc.field))
    except initial_tokens.TokenNotFound:
        return error_response(
            ApiError(
                "no initial access token with this id, or it was revoked already",
                error="not_found",
                status=404,
            )
        )
    except ApiError as error:
        return error_response(error)


def _dispatch(op: Context, request: Request) -> Response:
    template, key = _match(request.path_info)
    methods = ROUTES[template]
    operation = methods.get(request.method)
    if operation is None:
        allow = ", ".join(methods)
        raise ApiError(
            f"use {allow}", error="method_not_allowed", status=405, headers={"Allow": allow}
        )
    actor = ""
    token_scopes: tuple[str, ...] = ()
    if operation.scope != PUBLIC:
        token = _token(op, request, operation.scope)
        actor, token_scopes = actor_of(token), token.scopes
    if request.method in ("POST", "PATCH", "PUT") or request.content_length:
        _check_json_type(request)
    return operation.handler(Call(op, request, actor, key, token_scopes))


def _match(path: str) -> tuple[str, str]:
    """The route template matching ``path``, and the key (``{client_id}``, ``{key}``) it
    holds (if any)."""
    for template in ROUTES:
        prefix, brace, _ = template.partition("{")
        if not brace and path == template:
            return template, ""
        rest = path[len(prefix) :]
        if brace and path.startswith(prefix) and rest and "/" not in rest:
            return template, rest
    raise ApiError("there is nothing at this address", error="not_found", status=404)


def authenticate(op: Context, request: Request, needed: str) -> str:
    """RFC 6750 section 2.1 Bearer token (scheme case-insensitive) whose scopes allow
    ``needed`` (:func:`scopes.allows`); the audit actor."""
    return actor_of(_token(op, request, needed))


def actor_of(token: AdminToken) -> str:
    """How the audit log names a management API token (also at ``/includes/api.php``)."""
    return f"api-token:{token.id} ({token.name})"


def _token(op: Context, request: Request, needed: str) -> AdminToken:
    """The Bearer token of :func:`authenticate`."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(
            "an admin API token is required",
            status=401,
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid_token("use the Bearer scheme with an admin API token")
    record = op.storage.admin_tokens.authenticate(token)
    if record is None:
        raise _invalid_token("the admin API token is unknown or revoked")
    if not scopes.allows(record.scopes, needed):
        raise _insufficient_scope(needed)
    return record


def _insufficient_scope(needed: str, fields: str = "") -> ApiError:
    """RFC 6750 section 3.1: a valid token that may not do this; ``scope`` says what may
    (``fields``: the fields whose setting needs it)."""
    description = f"this needs an admin API token with the {needed} scope"
    if fields:
        description = f"setting {fields} needs an admin API token with the {needed} scope"
    challenge = (
        f'Bearer realm="{REALM}", error="insufficient_scope", '
        f'error_description="{description}", scope="{needed}"'
    )
    return ApiError(
        description,
        error="insufficient_scope",
        status=403,
        headers={"WWW-Authenticate": challenge},
    )


def _invalid_token(description: str) -> ApiError:
    challenge = f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
    return ApiError(
        description, error="invalid_token", status=401, headers={"WWW-Authenticate": challenge}
    )


def _check_json_type(request: Request) -> None:
    """T-60: only JSON bodies; an HTML form or text/plain post is refused unread."""
    if request.content_type != JSON_TYPE:
        raise ApiError(
            f"the request body must be {JSON_TYPE}", error="unsupported_media_type", status=415
        )


def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body.decode("utf-8"), object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(f"the body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ApiError("the body must be a JSON object")
    return data


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members; a key given twice is refused (which one would count?)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        raise ValueError("a key appears more than once")
    return data


def _list_params(request: Request) -> tuple[str, str, int, int]:
    params = _query(request, LIST_PARAMS)
    sort = params.get("sort", "name")
    return _search_text(params), sort, _whole(params, "limit", 100), _whole(params, "offset", 0)


def _query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query's parameters, each one of ``allowed`` and given once."""
    try:
        pairs = [(str(key), str(value)) for key, value in request.GET.items()]
    except UnicodeDecodeError:
        raise ApiError("the query is not valid UTF-8") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            raise ApiError("unknown query parameter", field=key[:64])
        if key in params:
            raise ApiError("given more than once", field=key)
        params[key] = value
    return params


def _search_text(params: dict[str, str]) -> str:
    text = params.get("q", "").strip()
    if len(text) > MAX_QUERY_TEXT:
        raise ApiError(f"at most {MAX_QUERY_TEXT} characters", field="q")
    return text


def _whole(params: dict[str, str], key: str, default: int) -> int:
    value = params.get(key)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        raise ApiError("must be a whole number", field=key)
    if len(value) > 18:  # the service states the range; this only keeps int() cheap
        raise ApiError("is far too large", field=key)
    return int(value)


def error_response(error: ApiError) -> Response:
    body: dict[str, Any] = {"error": error.error, "error_description": error.description}
    if error.field is not None:
        body["field"] = error.field
    return responses.json_response(body, error.status, headers=error.headers)
