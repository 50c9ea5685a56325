"""Discovery (OpenID Connect Discovery 1.0 section 3) and the JWK Set (RFC 7517 section 5).

Both come from configuration and the key cache, so relying parties can fetch them and
verify ID tokens even while the database is briefly unavailable.  Only what works is
advertised.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from .. import authn, responses
from ..claims import SUPPORTED_CLAIMS, SUPPORTED_SCOPES
from ..registration import SUBJECT_TYPES
from ..ui import locales

if TYPE_CHECKING:
    from ..context import Context

PUBLIC_CACHE = "public, max-age=300"


def metadata(op: Context) -> dict[str, Any]:
    return {**_endpoints(op), **_documents(op)}


def _documents(op: Context) -> dict[str, str]:
    """The operator's documents (Discovery 1.0 section 3), when configured."""
    settings = op.settings
    documents = {
        "service_documentation": settings.service_documentation,
        "op_policy_uri": settings.op_policy_uri,
        "op_tos_uri": settings.op_tos_uri,
    }
    return {name: uri for name, uri in documents.items() if uri}


def _endpoints(op: Context) -> dict[str, Any]:
    return {
        "issuer": op.settings.issuer,
        "authorization_endpoint": op.url("/authorize"),
        "token_endpoint": op.url("/token"),
        "userinfo_endpoint": op.url("/userinfo"),
        "jwks_uri": op.url("/jwks"),
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "acr_values_supported": list(authn.ACR_VALUES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": list(SUBJECT_TYPES),
        "id_token_signing_alg_values_supported": op.keys.algorithms(),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "claims_supported": [
            *SUPPORTED_CLAIMS,
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "acr",
            "amr",
        ],
        "revocation_endpoint": op.url("/revoke"),
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "end_session_endpoint": op.url("/end_session"),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "introspection_endpoint": op.url("/introspect"),
        "registration_endpoint": op.url("/register"),
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": list(locales.SUPPORTED),
    }


class Document:
    """The discovery document's body, serialized again only when the signing algorithms
    change: they follow the keys in the database (a key rotated in for ES256 appears after
    ``key_cache_seconds``); the rest of the metadata is fixed at start-up."""

    def __init__(self, fixed: dict[str, Any]) -> None:
        self._fixed = fixed
        self._built: tuple[tuple[str, ...], bytes] = ((), b"")

    def body(self, algorithms: list[str]) -> bytes:
        built_for, body = self._built
        if tuple(algorithms) != built_for or not body:
            document = {**self._fixed, "id_token_signing_alg_values_supported": algorithms}
            body = json.dumps(document, separators=(",", ":")).encode("utf-8")
            self._built = (tuple(algorithms), body)  # one assignment: safe across threads
        return body


def discovery(op: Context, request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return responses.json_response({"error": "invalid_request"}, 405, headers={"Allow": "GET"})
    body = op.discovery_document.body(op.keys.algorithms())
    return responses.json_body_response(body, cache=PUBLIC_CACHE)


def jwks(op: Context, request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return responses.json_response({"error": "invalid_request"}, 405, headers={"Allow": "GET"})
    return responses.json_body_response(op.keys.jwks_json(), cache=PUBLIC_CACHE)
