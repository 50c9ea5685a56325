"""The users part of the management API's OpenAPI description (:mod:`.openapi`).

Limits and enumerations come from :mod:`oidc_core.admin.users` and the records, so the
document states what the code enforces.
"""

from __future__ import annotations

from typing import Any

from .. import addresses
from ..records import ACCOUNT_STATUSES
from . import users
from .service import MAX_OFFSET

STATUS = {
    "enum": list(ACCOUNT_STATUSES),
    "description": "active: signs in and its tokens work. suspended: cannot sign in; its "
    "sessions were ended (back-channel logout) and its tokens are refused while suspended "
    "(refresh tokens work again on activation). closed: as suspended, and every token was "
    "revoked; only an administrator can activate it again, and nothing comes back.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: {"$ref": f"#/components/responses/{status}"} for status in statuses}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


def schemas() -> dict[str, Any]:
    flags = {
        "email_verified": {
            "type": "boolean",
            "description": "Set by an administrator: the address is the user's.",
        },
        "is_admin": {"type": "boolean", "description": "May use the console."},
    }
    user = {
        "sub": {"type": "string", "description": "The subject identifier; never reused."},
        "email": {"type": ["string", "null"], "description": "null for a host's account."},
        "name": {"type": "string"},
        **flags,
        "status": STATUS,
        "status_changed_at": {"type": ["integer", "null"], "description": "Unix time."},
        "updated_at": {"type": "integer", "description": "Unix time."},
    }
    return {
        "UserCreate": {
            "type": "object",
            "properties": {
                "email": {"type": "string", "maxLength": addresses.MAX_EMAIL},
                "password": {
                    "type": "string",
                    "minLength": users.MIN_PASSWORD,
                    "description": "Stored as an argon2id hash; never shown. Without one, "
                    "nobody can sign in with a password until it is set.",
                },
                "name": {"type": "string", "maxLength": users.MAX_NAME},
                **flags,
                "send_verification": {
                    "type": "boolean",
                    "default": False,
                    "description": "Mail the address a link that confirms it "
                    "(not with email_verified true).",
                },
            },
            "required": ["email"],
            "additionalProperties": False,
        },
        "UserUpdate": {
            "type": "object",
            "description": "Only the given fields change; everything is validated first.",
            "properties": {"status": STATUS, **flags},
            "additionalProperties": False,
            "minProperties": 1,
        },
        "User": {"type": "object", "properties": user, "required": sorted(user)},
        "UserList": {
            "type": "object",
            "properties": {"users": {"type": "array", "items": _ref("User")}},
            "required": ["users"],
        },
    }


def paths(prefix: str) -> dict[str, Any]:
    query = [
        ("q", {"type": "string", "maxLength": 255}, "Part of the email or name, or the sub."),
        ("status", {"enum": list(ACCOUNT_STATUSES)}, "Only accounts with this status."),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, None),
        ("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}, None),
    ]
    parameters = [
        {"name": name, "in": "query", "schema": schema, **({"description": d} if d else {})}
        for name, schema, d in query
    ]
    key = {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "The user's sub, or email address (a key with @).",
    }
    return {
        f"{prefix}/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "List users, by email (never their passwords)",
                "parameters": parameters,
                "responses": {
                    "200": _response("The matching users.", "UserList"),
                    **_errors("400", "401", "403", "414"),
                },
            },
            "post": {
                "operationId": "createUser",
                "summary": "Create a built-in account",
                "requestBody": _body("UserCreate"),
                "responses": {
                    "201": {
                        **_response("Created.", "User"),
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                    },
                    **_errors("400", "401", "403", "413", "415"),
                },
            },
        },
        f"{prefix}/users/{{key}}": {
            "parameters": [key],
            "get": {
                "operationId": "getUser",
                "summary": "Read a user",
                "responses": {
                    "200": _response("The user.", "User"),
                    **_errors("401", "403", "404"),
                },
            },
            "patch": {
                "operationId": "updateUser",
                "summary": "Change the status (suspend, close, activate) or the flags",
                "requestBody": _body("UserUpdate"),
                "responses": {
                    "200": _response("The user as it is now.", "User"),
                    **_errors("400", "401", "403", "404", "413", "415"),
                },
            },
        },
    }
