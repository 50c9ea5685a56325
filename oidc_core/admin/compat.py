"""The reference billing system's credential API, for the provisioning scripts written for it.

WHMCS provisions OpenID Connect credentials with four API actions, form POSTs to
``/includes/api.php`` answered in JSON (``"result": "success"`` or ``"result": "error"``
with a ``message``): ``CreateOAuthCredential``, ``ListOAuthCredentials``,
``UpdateOAuthCredential`` and ``DeleteOAuthCredential``.  This endpoint answers them at the
same path, so a script moves over by changing its URL and its credentials.  Every action is
done by :class:`~oidc_core.admin.service.ClientAdmin`: the validation and audit entries of the
console, the JSON API and the CLI, with the reference system's field names mapped to client
metadata (:data:`FIELDS`) and back in error messages.  ``credentialId`` is the client's
numeric primary key.

Authentication is a management API token (:mod:`oidc_core.admin.api`), either as
``Authorization: Bearer`` (RFC 6750 section 2.1) or as the form's ``secret`` (``password``
too, the reference system's older name); the form's ``identifier`` (``username``), when
given, must be the token's id as ``oidc-core admin-token create`` prints it.  Listing needs
the ``clients:read`` scope, the other actions ``clients:write``.

Cross-origin requests (SECURITY-CHECKLIST T-60): a form POST is a CORS "simple" request, so
a page elsewhere can send one; it carries no credential (no cookie is ever read or set) and
no CORS header is ever sent, so it can neither act nor read an answer without the token.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from .. import params, registration, responses
from ..errors import InvalidRequest
from ..records import AdminToken, Client
from . import scopes
from .api import actor_of
from .service import MAX_CREDENTIALS, ClientNotFound

if TYPE_CHECKING:
    from ..context import Context

PATH = "/includes/api.php"
FORM_TYPES = (params.FORM_TYPE, "multipart/form-data")
REALM = "oidc-core admin"
# The reference system's field -> client metadata (RFC 7591 names and our own).
FIELDS = {
    "name": "client_name",
    "description": "description",
    "logoUri": "logo_uri",
    "redirectUri": "redirect_uris",
    "scope": "scope",
    "serviceId": "service_id",
    "grantType": "credential_grant_type",
}
REFERENCE_NAMES = {
    **{metadata: reference for reference, metadata in FIELDS.items()},
    "reset_secret": "resetSecret",
    "sort": "sortField",
}
# Parameters of every action: what it is, who asks, how to answer.  ``accesskey`` (the
# reference system's way past its IP allow-list) is accepted and ignored.
COMMON = frozenset(
    {"action", "identifier", "secret", "username", "password", "accesskey", "responsetype"}
)
SORT_FIELDS = {
    "credentialId": "id",
    "id": "id",
    "name": "name",
    "clientIdentifier": "client_id",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
}
MAX_CREDENTIAL_ID = 2**31 - 1  # an INTEGER primary key: larger ids name no credential
_ARRAY_KEY = re.compile(r"(redirectUri)\[(\d{0,4})\]")  # PHP's redirectUri[] / redirectUri[0]


class CompatError(Exception):
    """An error answered as ``{"result": "error", "message": ...}`` with an HTTP status."""

    def __init__(
        self, message: str, status: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class Call:
    """One action: the provider, the form (name -> values), who makes it (the audit actor)."""

    op: Context
    form: dict[str, list[str]]
    actor: str


@dataclass(frozen=True)
class Action:
    name: str
    scope: str  # what the token needs (:mod:`.scopes`)
    fields: frozenset[str]  # its own parameters, besides COMMON
    run: Callable[[Call], Response]


# -- the four actions -----------------------------------------------------------------------


def create(call: Call) -> Response:
    """``CreateOAuthCredential``: a confidential authorization-code client, its secret
    shown once."""
    data = _metadata(call.form)
    if "credential_grant_type" not in data:
        raise registration.InvalidMetadata(
            "credential_grant_type",
            f"is required: {' or '.join(registration.CREDENTIAL_GRANT_TYPES)}",
        )
    if "client_name" not in data and data.get("credential_grant_type") == "single_sign_on":
        data["client_name"] = f"Service {data.get('service_id')}"
    client, secret = call.op.clients.create(data, call.actor)
    return _success(
        {"credentialId": client.id, "clientIdentifier": client.client_id, "clientSecret": secret}
    )


def list_credentials(call: Call) -> Response:
    """``ListOAuthCredentials``: ``totalresults`` and ``clients``, never a secret."""
    sort_field = _single(call.form, "sortField") or "credentialId"
    if sort_field not in SORT_FIELDS:
        raise CompatError(f"sortField: must be one of {', '.join(SORT_FIELDS)}")
    order = (_single(call.form, "sortOrder") or "ASC").upper()
    if order not in ("ASC", "DESC"):
        raise CompatError("sortOrder: must be ASC or DESC")
    total, clients = call.op.clients.credentials(
        _single(call.form, "grantType") or "",
        SORT_FIELDS[sort_field],
        order == "DESC",
        _whole(call.form, "limit", MAX_CREDENTIALS),
    )
    return _success({"totalresults": total, "clients": [described(c) for c in clients]})


def update(call: Call) -> Response:
    """``UpdateOAuthCredential``: the given fields; ``resetSecret`` answers
    ``newClientSecret`` and the old secret stops working at once."""
    client = _credential(call)
    data = _metadata(call.form)
    reset = _flag(call.form, "resetSecret")
    if not data and not reset:
        raise CompatError("nothing to change: give at least one field, or resetSecret=1")
    changed, secret = call.op.clients.change(client.client_id, data, call.actor, reset_secret=reset)
    body: dict[str, Any] = {"credentialId": changed.id}
    if secret is not None:
        body["newClientSecret"] = secret
    return _success(body)


def delete(call: Call) -> Response:
    """``DeleteOAuthCredential``: the client with its codes, tokens and consents."""
    client = _credential(call)
    call.op.clients.delete(client.client_id, call.actor)
    return _success({"credentialId": client.id})


_EDITABLE = frozenset(FIELDS)
ACTIONS = {
    action.name.lower(): action
    for action in (
        Action("CreateOAuthCredential", scopes.CLIENTS_WRITE, _EDITABLE, create),
        Action(
            "ListOAuthCredentials",
            scopes.CLIENTS_READ,
            frozenset({"grantType", "sortField", "sortOrder", "limit"}),
            list_credentials,
        ),
        Action(
            "UpdateOAuthCredential",
            scopes.CLIENTS_WRITE,
            _EDITABLE | {"credentialId", "resetSecret"},
            update,
        ),
        Action("DeleteOAuthCredential", scopes.CLIENTS_WRITE, frozenset({"credentialId"}), delete),
    )
}
SUPPORTED = ", ".join(action.name for action in ACTIONS.values())


def described(client: Client) -> dict[str, Any]:
    """A client as the reference system lists a credential (never its secret)."""
    return {
        "credentialId": client.id,
        "name": client.name,
        "description": client.description,
        "grantTypes": client.credential_grant_type or "authorization_code",
        "scope": " ".join(sorted(client.allowed_scopes)),
        "clientIdentifier": client.client_id,
        "serviceId": client.service_id,
        "logoUri": client.logo_uri,
        "redirectUri": list(client.redirect_uris),
        "createdAt": _when(client.created_at),
        "updatedAt": _when(client.updated_at),
    }


# -- dispatch -------------------------------------------------------------------------------


def dispatch(op: Context, request: Request) -> Response:
    try:
        return _dispatch(op, request)
    except CompatError as error:
        return _error(error.message, error.status, error.headers)
    except registration.InvalidMetadata as exc:
        return _error(f"{REFERENCE_NAMES.get(exc.field, exc.field)}: {exc.message}", 400)
    except ClientNotFound:
        return _error("no credential with this credentialId", 404)


def _dispatch(op: Context, request: Request) -> Response:
    if request.method != "POST":
        raise CompatError("use POST", 405, {"Allow": "POST"})
    if request.content_type not in FORM_TYPES:
        raise CompatError(f"the body must be a form: {' or '.join(FORM_TYPES)}", 415)
    form = _form(request, op.settings.max_param_length)
    if (_single(form, "responsetype") or "json").lower() != "json":
        raise CompatError("responsetype: only json is supported")
    token = authenticate(op, request, form)
    name = _single(form, "action") or ""
    action = ACTIONS.get(name.lower())
    if action is None:
        said = f"unknown action {name[:64]!r}" if name else "action is required"
        raise CompatError(f"{said}: use one of {SUPPORTED}")
    if not scopes.allows(token.scopes, action.scope):
        raise CompatError(
            f"this token may not {action.name}: it needs the {action.scope} scope", 403
        )
    unknown = sorted(set(form) - COMMON - action.fields)
    if unknown:
        raise CompatError(f"{unknown[0][:64]}: not a parameter of {action.name}")
    return action.run(Call(op, form, actor_of(token)))


def authenticate(op: Context, request: Request, form: dict[str, list[str]]) -> AdminToken:
    """The live management API token of the request: a Bearer header or the form's
    ``secret``, matching the form's ``identifier`` when one is given."""
    header = request.headers.get("Authorization", "")
    secret = _either(form, "secret", "password")
    identifier = _either(form, "identifier", "username")
    if header and secret is not None:
        raise CompatError("give the token once: in the Authorization header or as secret")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("use the Bearer scheme with a management API token")
        secret = value.strip()
    if not secret:
        raise _unauthorized("a management API token is required (identifier and secret)")
    record = op.storage.admin_tokens.authenticate(secret)
    if record is None:
        raise _unauthorized("the management API token is unknown or revoked")
    if identifier is not None and identifier != str(record.id):
        raise _unauthorized("the identifier is not the id of this token")
    return record


def _unauthorized(message: str) -> CompatError:
    return CompatError(message, 401, {"WWW-Authenticate": f'Bearer realm="{REALM}"'})


def _success(data: dict[str, Any]) -> Response:
    return responses.json_response({"result": "success", **data})


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return responses.json_response({"result": "error", "message": message}, status, headers=headers)


# -- reading the form -----------------------------------------------------------------------


def _form(request: Request, max_length: int) -> dict[str, list[str]]:
    """The form's parameters as name -> values; ``redirectUri``, ``redirectUri[]`` and
    ``redirectUri[N]`` (PHP's ``http_build_query``) are one list, in the order given; any
    other parameter appears once."""
    form: dict[str, list[str]] = {}
    seen: set[str] = set()
    for key, value in _pairs(request, max_length):
        array = _ARRAY_KEY.fullmatch(key)
        if array is None and key in form and key != "redirectUri":
            raise CompatError(f"{key[:64]}: given more than once")
        if array is not None:
            if array.group(2) and key in seen:
                raise CompatError(f"{key}: given more than once")
            seen.add(key)
            key = array.group(1)
        form.setdefault(key, []).append(value)
    return form


def _pairs(request: Request, max_length: int) -> list[tuple[str, str]]:
    """The body's (name, value) pairs, within the limits of the protocol endpoints."""
    if request.content_type == params.FORM_TYPE:
        try:
            return params.form_params(request, max_length, body=True)
        except InvalidRequest as exc:
            raise CompatError(exc.description) from None
    try:
        items = list(request.POST.items())
    except (ValueError, UnicodeDecodeError):
        raise CompatError("the body is not a valid multipart form") from None
    if len(items) > params.MAX_PARAMS:
        raise CompatError("too many parameters")
    pairs = []
    for key, value in items:
        if not isinstance(value, str):
            raise CompatError(f"{key[:64]}: files are not accepted")
        if "\ufffd" in key + value:  # what the multipart parser made of bytes not UTF-8
            raise CompatError("parameters are not valid UTF-8")
        if len(value) > max_length or len(key) > 64:
            raise CompatError(f"parameter {key[:64]!r} is too long")
        if "\x00" in value:
            raise CompatError(f"parameter {key[:64]!r} contains a NUL character")
        pairs.append((key, value))
    return pairs


def _single(form: dict[str, list[str]], key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def _either(form: dict[str, list[str]], key: str, alias: str) -> str | None:
    if key in form and alias in form:
        raise CompatError(f"give {key} or {alias}, not both")
    return _single(form, key) if key in form else _single(form, alias)


def _metadata(form: dict[str, list[str]]) -> dict[str, Any]:
    """The given reference fields as client metadata, for :mod:`oidc_core.registration` to
    validate (a ``serviceId`` that is not digits is passed on as text, to be refused)."""
    data: dict[str, Any] = {}
    for reference, metadata in FIELDS.items():
        if reference not in form:
            continue
        value = _single(form, reference) or ""
        if reference == "grantType" and not value:  # never cleared: every credential has one
            raise registration.InvalidMetadata(
                metadata, f"must be one of {', '.join(registration.CREDENTIAL_GRANT_TYPES)}"
            )
        if reference == "redirectUri":
            data[metadata] = list(form[reference])
        elif reference == "serviceId" and value.isascii() and value.isdigit():
            data[metadata] = int(value) if len(value) <= 19 else value
        else:
            data[metadata] = value
    return data


def _credential(call: Call) -> Client:
    """The client named by ``credentialId`` (:class:`ClientNotFound` if none)."""
    value = _single(call.form, "credentialId")
    if not value:
        raise CompatError("credentialId: is required")
    if not value.isascii() or not value.isdigit() or not value.strip("0"):
        raise CompatError("credentialId: must be a positive whole number")
    number = int(value) if len(value) <= 18 else MAX_CREDENTIAL_ID + 1
    if number > MAX_CREDENTIAL_ID:
        raise ClientNotFound(value)
    return call.op.clients.by_credential_id(number)


def _flag(form: dict[str, list[str]], key: str) -> bool:
    """A PHP-style boolean: true/1/yes/on or false/0/no/off/"" (any case)."""
    value = (_single(form, key) or "").lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise CompatError(f"{key}: must be true or false (1 or 0)")


def _whole(form: dict[str, list[str]], key: str, default: int) -> int:
    value = _single(form, key)
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise CompatError(f"{key}: must be a whole number from 1 to {MAX_CREDENTIALS}")
    return int(value)


def _when(timestamp: int) -> str:
    """The reference system's date format (``2026-01-31 23:59:59``), in UTC."""
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")
