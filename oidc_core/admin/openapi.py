"""The OpenAPI 3.1 description of the management API (:mod:`oidc_core.admin.api`).

Limits and enumerations come from :mod:`oidc_core.registration` and the service, so the
document states what the code enforces.  A test checks that its paths and methods are
exactly those of ``api.ROUTES``; each operation's security requirement names the token
scope ``api.ROUTES`` gives it (OpenAPI 3.1 allows role names for an http scheme).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .. import registration
from ..claims import SUPPORTED_SCOPES
from . import openapi_tokens, openapi_users
from .scopes import ADMIN, SCOPES
from .service import MAX_GRACE_SECONDS, MAX_OFFSET, SORT_KEYS

TOKEN_LIMIT = f"At most {registration.TTL_RANGE[1]} seconds; null for the provider default."
URI = {"type": "string", "maxLength": registration.MAX_URI_LENGTH}
SCHEME = "adminToken"


class Scoped(Protocol):
    """An operation of ``api.ROUTES``: the token scope it needs ("": none)."""

    @property
    def scope(self) -> str: ...


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema:
        response["content"] = {"application/json": {"schema": _ref(schema)}}
    return response


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: {"$ref": f"#/components/responses/{status}"} for status in statuses}


def _metadata_properties() -> dict[str, Any]:
    """The writable client metadata (RFC 7591 section 2 names, plus our own)."""
    ttl = {
        "type": ["integer", "null"],
        "minimum": registration.TTL_RANGE[0],
        "maximum": registration.TTL_RANGE[1],
        "description": TOKEN_LIMIT,
    }
    return {
        "client_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "No control characters (Unicode category C).",
        },
        "description": {
            "type": "string",
            "maxLength": registration.MAX_DESCRIPTION,
            "description": "Line breaks allowed; no other control characters.",
        },
        "client_uri": {
            **URI,
            "description": "The application's home page: the rules of a redirect URI.",
        },
        "logo_uri": {
            **URI,
            "description": "A URL with the rules of a redirect URI, or a path on the provider.",
        },
        "redirect_uris": {
            "type": "array",
            "items": {
                **URI,
                "minLength": 1,
                "description": "Absolute https URI (http only on loopback), no fragment.",
            },
            "minItems": 1,
            "maxItems": registration.MAX_REDIRECT_URIS,
            "uniqueItems": True,
        },
        "post_logout_redirect_uris": {
            "type": "array",
            "items": {
                **URI,
                "minLength": 1,
                "description": "Absolute https URI (http only on loopback), no fragment.",
            },
            "maxItems": registration.MAX_REDIRECT_URIS,
            "uniqueItems": True,
            "description": "Where /end_session may send the browser after signing out "
            "(OpenID Connect RP-Initiated Logout 1.0), matched exactly.",
        },
        "backchannel_logout_uri": {
            "type": "string",
            "maxLength": registration.MAX_URI_LENGTH,
            "description": "Where the provider POSTs a logout token when a user who signed "
            "in to this client signs out (OpenID Connect Back-Channel Logout 1.0): absolute "
            'https URI (http only on loopback), no fragment; "" for none.',
        },
        "backchannel_logout_session_required": {
            "type": "boolean",
            "description": "Logout tokens (and ID tokens) carry the session's sid.",
        },
        "scope": {
            "type": "string",
            "description": "Space-separated scopes the client may ask for; must include "
            "openid. Supported: " + ", ".join(SUPPORTED_SCOPES) + ".",
        },
        "grant_types": {
            "type": "array",
            "items": {"enum": list(registration.GRANT_TYPES)},
            "uniqueItems": True,
            "contains": {"const": "authorization_code"},
            "description": "authorization_code is required; refresh_token lets the client "
            "get refresh tokens (with the offline_access scope); client_credentials (a "
            "confidential client only) lets it get tokens for itself.",
        },
        "response_types": {"type": "array", "items": {"const": "code"}},
        "token_endpoint_auth_method": {
            "enum": list(registration.AUTH_METHODS),
            "description": '"none" makes a public client: no secret, PKCE required.',
        },
        "require_pkce": {"type": "boolean"},
        "skip_consent": {"type": "boolean", "description": "A first-party application."},
        "require_mfa": {
            "type": "boolean",
            "description": "Every sign-in for this client needs a second factor.",
        },
        "access_token_ttl": ttl,
        "id_token_ttl": ttl,
        "id_token_signed_response_alg": {
            "enum": list(registration.SIGNING_ALGORITHMS),
            "default": registration.SIGNING_ALGORITHMS[0],
            "description": "How ID tokens for this client are signed (OpenID Connect Dynamic "
            "Client Registration 2). ES256 needs an ES256 key: `oidc-core keys rotate --alg "
            "ES256`.",
        },
        "policy_uri": {
            **URI,
            "description": "The client's privacy policy, linked from the consent page "
            '(OpenID Connect Dynamic Client Registration 2); "" for none.',
        },
        "tos_uri": {
            **URI,
            "description": "The client's terms of service, linked from the consent page; "
            '"" for none.',
        },
        "software_id": {
            "type": "string",
            "maxLength": registration.MAX_SOFTWARE_TEXT,
            "description": "Identifies the client software across its installations "
            '(RFC 7591 2); "" for none.',
        },
        "software_version": {
            "type": "string",
            "maxLength": registration.MAX_SOFTWARE_TEXT,
            "description": 'The version of that software (RFC 7591 2); "" for none.',
        },
        "service_id": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": registration.MAX_SERVICE_ID,
            "description": "The reference billing system's serviceId of the credential; "
            "required when credential_grant_type is single_sign_on.",
        },
        "credential_grant_type": {
            "enum": [*registration.CREDENTIAL_GRANT_TYPES, None],
            "description": "The reference billing system's grantType of the credential; "
            "both are authorization-code clients.",
        },
        "access_token_format": {
            "enum": list(registration.ACCESS_TOKEN_FORMATS),
            "default": registration.ACCESS_TOKEN_FORMATS[0],
            "description": "opaque: random access tokens; jwt: signed JWT access tokens "
            "(RFC 9068) a resource server can verify with the JWKS. Both are revocable and "
            "work at /userinfo, /introspect and /revoke.",
        },
        "subject_type": {
            "enum": list(registration.SUBJECT_TYPES),
            "default": registration.SUBJECT_TYPES[0],
            "description": "public: the client sees each user's own sub; pairwise (OpenID "
            "Connect Core 8.1): a sub of its own sector, the host of sector_identifier_uri "
            "or of its redirect URIs (then all on one host).",
        },
        "sector_identifier_uri": {
            "type": "string",
            "maxLength": registration.MAX_URI_LENGTH,
            "description": "An https URI whose JSON array lists every redirect URI of the "
            "client (OpenID Connect Dynamic Client Registration 5), fetched when set and when "
            'the redirect URIs change; its host is the pairwise sector. "" for none.',
        },
    }


def _schemas() -> dict[str, Any]:
    writable = _metadata_properties()
    client = {
        **writable,
        "client_id": {"type": "string"},
        "client_id_issued_at": {"type": "integer", "description": "Unix time."},
        "updated_at": {"type": "integer", "description": "Unix time."},
        "last_used_at": {
            "type": ["integer", "null"],
            "description": "Unix time of the last access token issued to the client (null: none).",
        },
    }
    return {
        "ClientCreate": {
            "type": "object",
            "properties": writable,
            "required": ["client_name", "redirect_uris"],
            "additionalProperties": False,
        },
        "ClientUpdate": {
            "type": "object",
            "description": "Only the given fields change. Everything is validated before "
            "anything changes. A public client made confidential gets a secret.",
            "properties": {
                **writable,
                "reset_secret": {
                    "type": "boolean",
                    "description": "Issue a new client_secret (returned once).",
                },
                "grace_seconds": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_GRACE_SECONDS,
                    "description": "With reset_secret: how long the old secret keeps working.",
                },
            },
            "additionalProperties": False,
            "minProperties": 1,
        },
        "Client": {"type": "object", "properties": client, "required": sorted(client)},
        "ClientWithSecret": {
            "allOf": [
                _ref("Client"),
                {
                    "type": "object",
                    "properties": {
                        "client_secret": {
                            "type": ["string", "null"],
                            "description": "Shown only this once (stored as a hash); "
                            "null for a public client.",
                        }
                    },
                    "required": ["client_secret"],
                },
            ]
        },
        "ClientUpdated": {
            "allOf": [
                _ref("Client"),
                {
                    "type": "object",
                    "properties": {
                        "client_secret": {
                            "type": "string",
                            "description": "Present only when a secret was issued; shown "
                            "only this once.",
                        }
                    },
                },
            ]
        },
        "ClientList": {
            "type": "object",
            "properties": {"clients": {"type": "array", "items": _ref("Client")}},
            "required": ["clients"],
        },
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "string",
                    "examples": [
                        "invalid_client_metadata",
                        "invalid_redirect_uri",
                        "invalid_request",
                        "invalid_token",
                        "insufficient_scope",
                        "not_found",
                        "method_not_allowed",
                        "unsupported_media_type",
                        "temporarily_unavailable",
                    ],
                },
                "error_description": {"type": "string"},
                "field": {"type": "string", "description": "The field or parameter at fault."},
            },
            "required": ["error"],
        },
    }


def _error_responses() -> dict[str, Any]:
    return {
        "400": _response(
            "A field is invalid: `field` names it. `invalid_redirect_uri` for redirect_uris, "
            "`invalid_client_metadata` for other metadata, `invalid_request` otherwise. "
            "Nothing was changed.",
            "Error",
        ),
        "401": _response(
            "No token (`WWW-Authenticate: Bearer`), or an unknown or revoked one "
            '(`error="invalid_token"`).',
            "Error",
        ),
        "403": _response(
            'The token lacks the operation\'s scope (`error="insufficient_scope"`, and '
            '`WWW-Authenticate: Bearer ... scope="<needed>"`, RFC 6750 section 3.1). '
            "Nothing was changed.",
            "Error",
        ),
        "404": _response(
            "No client with this client_id, no user with this key, or no unrevoked initial "
            "access token with this id.",
            "Error",
        ),
        "413": _response("The body is too large.", "Error"),
        "414": _response("The query is too long (refused by the HTTP server)."),
        "415": _response(
            "The body is not `application/json` (so cross-site forms cannot write).", "Error"
        ),
    }


def _paths() -> dict[str, Any]:
    client_id = {
        "name": "client_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    query = [
        ("q", {"type": "string", "maxLength": 255}, "Part of the client_name or client_id."),
        (
            "sort",
            {"enum": [*SORT_KEYS, *(f"-{key}" for key in SORT_KEYS)], "default": "name"},
            "Sort key; a leading - sorts descending.",
        ),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, None),
        ("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}, None),
    ]
    parameters = [
        {"name": name, "in": "query", "schema": schema, **({"description": d} if d else {})}
        for name, schema, d in query
    ]

    def body(schema: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}

    return {
        "/admin/api/clients": {
            "get": {
                "operationId": "listClients",
                "summary": "List clients (never their secrets)",
                "parameters": parameters,
                "responses": {
                    "200": _response("The matching clients.", "ClientList"),
                    **_errors("400", "401", "403", "414"),
                },
            },
            "post": {
                "operationId": "createClient",
                "summary": "Create a client",
                "requestBody": body("ClientCreate"),
                "responses": {
                    "201": {
                        **_response("Created; the secret is shown only here.", "ClientWithSecret"),
                        "headers": {
                            "Location": {"schema": {"type": "string", "format": "uri"}},
                        },
                    },
                    **_errors("400", "401", "403", "413", "415"),
                },
            },
        },
        "/admin/api/clients/{client_id}": {
            "parameters": [client_id],
            "get": {
                "operationId": "getClient",
                "summary": "Read a client",
                "responses": {
                    "200": _response("The client's metadata.", "Client"),
                    **_errors("401", "403", "404"),
                },
            },
            "patch": {
                "operationId": "updateClient",
                "summary": "Change the given fields; optionally reset the secret",
                "requestBody": body("ClientUpdate"),
                "responses": {
                    "200": _response(
                        "The client's metadata; with `client_secret` when a secret was issued.",
                        "ClientUpdated",
                    ),
                    **_errors("400", "401", "403", "404", "413", "415"),
                },
            },
            "delete": {
                "operationId": "deleteClient",
                "summary": "Delete a client with its codes, tokens and consents",
                "responses": {
                    "204": {"description": "Deleted."},
                    **_errors("401", "403", "404"),
                },
            },
        },
        **openapi_users.paths("/admin/api"),
        **openapi_tokens.paths("/admin/api"),
        "/admin/api/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1 document."}},
            }
        },
    }


def _secured(paths: dict[str, Any], routes: Mapping[str, Mapping[str, Scoped]]) -> dict[str, Any]:
    """Each operation with its security requirement: the scope it needs, or none."""
    for path, methods in routes.items():
        for method, operation in methods.items():
            needed = [{SCHEME: [operation.scope]}] if operation.scope else []
            paths[path][method.lower()]["security"] = needed
    return paths


def document(server_url: str, routes: Mapping[str, Mapping[str, Scoped]]) -> dict[str, Any]:
    """The whole OpenAPI document of ``routes`` (``api.ROUTES``), with the provider's
    issuer as server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "oidc-core management API",
            "version": "1",
            "description": "Client and user administration for provisioning scripts. Client "
            "metadata uses the OAuth 2.0 Dynamic Client Registration names (RFC 7591). Every "
            "response is JSON with `Cache-Control: no-store`; request bodies must be "
            "`application/json`. "
            "Errors: `{error, error_description, field}`; a wrong method is 405 with `Allow`. "
            "Each operation names the token scope it needs: `admin` allows everything, "
            "`clients:write` also allows `clients:read`.",
        },
        "servers": [{"url": server_url}],
        "security": [{SCHEME: [ADMIN]}],
        "paths": _secured(_paths(), routes),
        "components": {
            "securitySchemes": {
                SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An admin API token from `oidc-core admin-token create "
                    "--scope ...`, with the scopes " + ", ".join(SCOPES) + ".",
                }
            },
            "schemas": {**_schemas(), **openapi_users.schemas(), **openapi_tokens.schemas()},
            "responses": _error_responses(),
        },
    }
