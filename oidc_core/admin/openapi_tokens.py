"""The initial access tokens and audit log parts of the management API's OpenAPI
description (:mod:`.openapi`).

Limits and enumerations come from :mod:`oidc_core.admin.initial_tokens`, so the document
states what the code enforces.
"""

from __future__ import annotations

from typing import Any

from .. import registration
from ..claims import SUPPORTED_SCOPES
from . import initial_tokens as tokens
from .service import MAX_LIMIT, MAX_OFFSET

HOST = {
    "type": "string",
    "minLength": 1,
    "maxLength": 253,
    "description": "A DNS name or an IP address; no scheme, port, path or wildcard.",
}
LIMIT_NOTE = "Empty or absent: no limit."


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: {"$ref": f"#/components/responses/{status}"} for status in statuses}


def _limits() -> dict[str, Any]:
    def listed(items: dict[str, Any], what: str) -> dict[str, Any]:
        return {
            "type": "array",
            "items": items,
            "maxItems": tokens.MAX_ITEMS,
            "description": f"{what} {LIMIT_NOTE}",
        }

    return {
        "scopes": listed(
            {"enum": list(SUPPORTED_SCOPES)},
            "The scopes a registered client may have; must include openid.",
        ),
        "grant_types": listed(
            {"enum": list(registration.GRANT_TYPES)},
            "The grant types a registered client may have.",
        ),
        "redirect_hosts": listed(HOST, "The hosts a registered client's redirect URIs may have."),
    }


def schemas() -> dict[str, Any]:
    low, high = tokens.EXPIRES_IN_RANGE
    token = {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "state": {"enum": [tokens.LIVE, tokens.EXPIRED, tokens.USED_UP, tokens.REVOKED]},
        "created_by": {"type": "string", "description": "Who issued it (as in the audit log)."},
        "created_at": {"type": "integer", "description": "Unix time."},
        "expires_at": {"type": "integer", "description": "Unix time."},
        "uses_allowed": {"type": "integer"},
        "uses": {"type": "integer", "description": "Clients registered with it so far."},
        "last_used_at": {"type": ["integer", "null"], "description": "Unix time."},
        "revoked_at": {"type": ["integer", "null"], "description": "Unix time."},
        **_limits(),
    }
    return {
        "InitialAccessTokenCreate": {
            "type": "object",
            "properties": {
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "description": "What or whom it is for. No control characters.",
                },
                "expires_in": {
                    "type": "integer",
                    "minimum": low,
                    "maximum": high,
                    "default": tokens.DEFAULT_EXPIRES_IN,
                    "description": "Seconds until it expires (at most 366 days).",
                },
                "uses_allowed": {
                    "type": "integer",
                    "minimum": tokens.USES_RANGE[0],
                    "maximum": tokens.USES_RANGE[1],
                    "default": 1,
                    "description": "How many clients it may register.",
                },
                **_limits(),
            },
            "required": ["name"],
            "additionalProperties": False,
        },
        "InitialAccessToken": {"type": "object", "properties": token, "required": sorted(token)},
        "InitialAccessTokenIssued": {
            "allOf": [
                _ref("InitialAccessToken"),
                {
                    "type": "object",
                    "properties": {
                        "token": {
                            "type": "string",
                            "description": "The value, shown only this once (stored as a "
                            "hash): the Bearer token of the registration request.",
                        }
                    },
                    "required": ["token"],
                },
            ]
        },
        "InitialAccessTokenList": {
            "type": "object",
            "properties": {"tokens": {"type": "array", "items": _ref("InitialAccessToken")}},
            "required": ["tokens"],
        },
        "AuditEntry": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "at": {"type": "integer", "description": "Unix time."},
                "actor": {"type": "string", "description": "Who: cli:, api-token:, or a user."},
                "action": {"type": "string", "examples": ["client.create"]},
                "target": {"type": "string"},
                "details": {"type": "object", "description": "Never a secret."},
            },
            "required": ["id", "at", "actor", "action", "target", "details"],
        },
        "AuditList": {
            "type": "object",
            "properties": {"entries": {"type": "array", "items": _ref("AuditEntry")}},
            "required": ["entries"],
        },
    }


def paths(prefix: str) -> dict[str, Any]:
    token_id = {
        "name": "token_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "The token's id.",
    }
    page = [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
        },
        {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        },
    ]
    return {
        f"{prefix}/initial-access-tokens": {
            "get": {
                "operationId": "listInitialAccessTokens",
                "summary": "List initial access tokens (never their values)",
                "responses": {
                    "200": _response("Every token, oldest first.", "InitialAccessTokenList"),
                    **_errors("400", "401", "403"),
                },
            },
            "post": {
                "operationId": "createInitialAccessToken",
                "summary": "Issue an initial access token for the registration endpoint "
                "(RFC 7591 section 3)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("InitialAccessTokenCreate")}},
                },
                "responses": {
                    "201": {
                        **_response(
                            "Issued; the value is shown only here.", "InitialAccessTokenIssued"
                        ),
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                    },
                    **_errors("400", "401", "403", "413", "415"),
                },
            },
        },
        f"{prefix}/initial-access-tokens/{{token_id}}": {
            "parameters": [token_id],
            "delete": {
                "operationId": "revokeInitialAccessToken",
                "summary": "Revoke an initial access token: it registers nothing more "
                "(clients it registered stay)",
                "responses": {
                    "204": {"description": "Revoked."},
                    **_errors("401", "403", "404"),
                },
            },
        },
        f"{prefix}/audit": {
            "get": {
                "operationId": "listAudit",
                "summary": "Read the audit log, newest first",
                "parameters": page,
                "responses": {
                    "200": _response("The entries.", "AuditList"),
                    **_errors("400", "401", "403", "414"),
                },
            },
        },
    }
