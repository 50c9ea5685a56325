"""Dynamic Client Registration: RFC 7591 (``POST /register``) and RFC 7592 client
configuration (``GET|PUT|DELETE /register/<client_id>``).

A server registers with an initial access token (RFC 7591 section 3, ``Authorization:
Bearer``) that an administrator issued; without one it is refused with 401
``invalid_token`` unless ``open_registration`` is set.  The body is an ``application/json``
object (415 otherwise) of RFC 7591 section 2 metadata, validated as the console and the
management API validate it (:meth:`~oidc_core.admin.service.ClientAdmin.checked_fields`)
plus the rules of :mod:`oidc_core.self_registration`.  Registering spends one use of the
token in the transaction that creates the client; a refused request spends nothing.

The answer (RFC 7591 section 3.2.1) carries a registration access token (RFC 7592 section
3) for the client configuration endpoint, stored as a digest and replaced on every use
(RFC 7592 section 3: "the authorization server MAY issue a new registration access
token"): a response carries the next one, the one used never works again, and of two
requests with one token only one succeeds.  The rotation is part of the change it
authorises, so a refused change leaves the old token working.  Errors are RFC 7591
section 3.2.2 JSON (``invalid_redirect_uri``, ``invalid_client_metadata``) or RFC 6750
section 3.1 ``invalid_token`` with a ``WWW-Authenticate: Bearer`` challenge.  No CORS:
registration is server to server.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from webob import Request, Response

from .. import credentials, registration, responses
from ..admin.api import unique_keys
from ..admin.service import ClientNotFound
from ..errors import InvalidToken, ProviderError
from ..records import Client, ClientFields
from ..registration import ADMIN_ONLY
from ..self_registration import Limits, check_limits, requested
from ..storage import TokenSpent

if TYPE_CHECKING:
    from ..context import Context

REGISTER = "/register"
CONFIGURE = "/register/"
JSON_TYPE = "application/json"
# Request parameters of our RFC 7592 extension: their errors are invalid_request.
REQUEST_FIELDS = frozenset({"reset_secret", "grace_seconds"})
# Not the client's metadata: decided by an administrator, or the provider's bookkeeping.
NOT_SHOWN = frozenset({*ADMIN_ONLY, "updated_at", "last_used_at"})


class Refused(ProviderError):
    """An error answered as JSON, with the headers it needs (a Bearer challenge, Allow)."""

    def __init__(
        self, description: str, *, error: str, status: int, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description, error=error, status=status)
        self.headers = headers or {}


def register(op: Context, request: Request) -> Response:
    """RFC 7591 3.1: create a client from the metadata posted."""
    return _answered(partial(_register, op, request))


def configure(op: Context, request: Request) -> Response:
    """RFC 7592 2: read, update or delete the client the registration access token is of."""
    return _answered(partial(_configure, op, request))


def _answered(handle: partial[Response]) -> Response:
    try:
        return handle()
    except registration.InvalidMetadata as exc:
        return responses.error_json(
            ProviderError(str(exc), error=registration.error_code(exc.field, REQUEST_FIELDS))
        )
    except (InvalidToken, TokenSpent, ClientNotFound) as exc:
        description = exc.description if isinstance(exc, InvalidToken) else _SPENT
        return responses.error_json(InvalidToken(description), headers=_challenge(description))
    except Refused as error:
        return responses.error_json(error, headers=error.headers)


_SPENT = "the token is unknown, expired, used up or revoked"


def _challenge(description: str) -> dict[str, str]:
    """RFC 6750 3: the ``WWW-Authenticate`` of a refused Bearer token."""
    return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'}


# -- RFC 7591: registration -------------------------------------------------------------


def _register(op: Context, request: Request) -> Response:
    _allow(request, ("POST",))
    token = _bearer(request)
    if token is None:
        if not op.settings.open_registration:
            raise InvalidToken("an initial access token is required")
        record, actor = None, "open-registration"
    else:
        record = op.storage.initial_access_tokens.find(token)
        if record is None:
            raise InvalidToken(f"the initial access token: {_SPENT}")
        actor = f"initial-access-token:{record.id} ({record.name})"
    body = _json_object(request)
    limits = Limits.of(record)
    data = requested(body, limits)
    fields = op.clients.checked_fields(data)
    check_limits(limits, fields)
    given = sorted(key for key in data if key in body)
    client, secret, next_token = op.clients.register(
        fields, given, actor, record.id if record else None
    )
    return responses.json_response(_described(op, client, next_token, secret), 201)


# -- RFC 7592: client configuration -----------------------------------------------------


def _configure(op: Context, request: Request) -> Response:
    _allow(request, ("GET", "PUT", "DELETE"))
    client_id = request.path_info[len(CONFIGURE) :]
    token = _bearer(request)
    if token is None:
        raise InvalidToken("a registration access token is required")
    client = op.storage.registration_tokens.client(token)
    if client is None or client.client_id != client_id:
        raise InvalidToken(f"the registration access token of this client: {_SPENT}")
    actor = f"registration-access-token:{client_id}"
    if request.method == "GET":
        with op.storage.transaction():
            next_token = _rotate(op, client_id, token)
            client = op.clients.get(client_id)
        return responses.json_response(_described(op, client, next_token))
    if request.method == "DELETE":
        with op.storage.transaction():
            _rotate(op, client_id, token)
            op.clients.delete(client_id, actor)
        deleted = Response(status=204)
        deleted.headers.update(responses.NO_STORE)
        return deleted
    return _update(op, request, client, token, actor)


def _update(op: Context, request: Request, client: Client, token: str, actor: str) -> Response:
    """RFC 7592 2.2: the body replaces the client's metadata (omitted fields take their
    defaults; an administrator's fields keep theirs).  Our extension: ``reset_secret``
    (with ``grace_seconds``) issues a new secret, returned once."""
    body = _json_object(request)
    reset = body.pop("reset_secret", False)
    if not isinstance(reset, bool):
        raise registration.InvalidMetadata("reset_secret", "must be true or false")
    grace = body.pop("grace_seconds", 0)
    if body.get("client_id") != client.client_id:
        raise registration.InvalidMetadata("client_id", "must be the client_id of this client")
    secret = body.get("client_secret")
    if secret is not None and not (
        isinstance(secret, str) and credentials.digest_matches(secret, client.secret_digest)
    ):
        raise registration.InvalidMetadata("client_secret", "is not the current client secret")
    limits = _limits_of(op, client)
    data = requested(body, limits)
    # Validated before the transaction: a sector document is fetched here, never while
    # the database's write lock is held (on SQLite that would stop every sign-in).
    fields = op.clients.checked_fields(data, ClientFields.of(client))
    check_limits(limits, fields)
    with op.storage.transaction():
        next_token = _rotate(op, client.client_id, token)
        changed, new_secret = op.clients.change(
            client.client_id,
            data,
            actor,
            reset_secret=reset,
            grace_seconds=grace,
            checked=fields,
        )
    return responses.json_response(_described(op, changed, next_token, new_secret))


def _limits_of(op: Context, client: Client) -> Limits:
    """The limits of the initial access token the client was registered with, whatever
    became of the token since (expired, used up, revoked)."""
    if client.initial_access_token_id is None:
        return Limits()
    token = op.storage.initial_access_tokens.get(client.initial_access_token_id)
    if token is None:  # tokens are revoked, never deleted: a broken database
        raise RuntimeError(f"initial access token {client.initial_access_token_id} is gone")
    return Limits.of(token)


def _rotate(op: Context, client_id: str, token: str) -> str:
    """Replace the registration access token in the current transaction; a token used by
    another request meanwhile is refused (the transaction rolls back)."""
    next_token = op.storage.registration_tokens.rotate(client_id, token)
    if next_token is None:
        raise InvalidToken(f"the registration access token of this client: {_SPENT}")
    return next_token


# -- shared -----------------------------------------------------------------------------


def _described(
    op: Context, client: Client, next_token: str, secret: str | None = None
) -> dict[str, Any]:
    """RFC 7591 3.2.1 / RFC 7592 3: the registered metadata, the client's credentials as
    far as they can be shown, and the next registration access token."""
    metadata = registration.client_metadata(client)
    body = {key: value for key, value in metadata.items() if key not in NOT_SHOWN}
    if secret is not None:
        body["client_secret"] = secret
    if not client.is_public:
        body["client_secret_expires_at"] = 0  # RFC 7591 3.2.1: it does not expire
    body["registration_access_token"] = next_token
    body["registration_client_uri"] = op.url(CONFIGURE + quote(client.client_id, safe=""))
    return body


def _allow(request: Request, methods: tuple[str, ...]) -> None:
    if request.method not in methods:
        allow = ", ".join(methods)
        raise Refused(f"use {allow}", error="invalid_request", status=405, headers={"Allow": allow})


def _bearer(request: Request) -> str | None:
    """RFC 6750 2.1: the Bearer token of the ``Authorization`` header; None without one."""
    header = str(request.headers.get("Authorization", ""))
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("use the Bearer scheme")
    return token


def _json_object(request: Request) -> dict[str, Any]:
    """An ``application/json`` body holding one object, each key once."""
    if request.content_type != JSON_TYPE:
        raise Refused(f"the request body must be {JSON_TYPE}", error="invalid_request", status=415)
    try:
        data = json.loads(request.body.decode("utf-8"), object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refused(
            f"the body is not valid JSON ({exc})", error="invalid_client_metadata", status=400
        ) from None
    if not isinstance(data, dict):
        raise Refused("the body must be a JSON object", error="invalid_client_metadata", status=400)
    return data
