"""Small request checks that oauthlib leaves to us, each citing its rule.

``AUTHORIZATION_CHECKS`` run (in order) after oauthlib has validated ``client_id`` and
``redirect_uri``, so their errors are redirected to the client.  ``TOKEN_CHECKS`` run at
the token endpoint after the code and the redirect URI have been validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from oauthlib.oauth2.rfc6749 import errors

Check = Callable[[Any], dict[str, Any]]

PKCE_VALUE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
SUPPORTED_RESPONSE_MODES = frozenset({"query", "form_post"})
MAX_STATE_LENGTH = 2048
MAX_NONCE_LENGTH = 2048


def check_response_type(request: Any) -> dict[str, Any]:
    """OIDC Core 3.1.2.1: we support ``response_type=code`` only (RFC 9700 2.1.2)."""
    if not request.response_type:
        raise errors.MissingResponseTypeError(request=request)
    if request.response_type != "code":
        raise errors.UnsupportedResponseTypeError(request=request)
    return {}


def check_response_mode(request: Any) -> dict[str, Any]:
    """OAuth 2.0 Multiple Response Types 2.1: unknown or unsupported modes are errors."""
    mode = request.response_mode
    if mode is not None and mode not in SUPPORTED_RESPONSE_MODES:
        # Answer in the default (query) mode, never through the requested channel.
        request.response_mode = None
        raise errors.InvalidRequestError(
            description=f"response_mode {mode!r} is not supported", request=request
        )
    return {}


def check_no_request_object(request: Any) -> dict[str, Any]:
    """OIDC Core 6.1/6.2: refuse request objects rather than silently ignore them."""
    if getattr(request, "request", None) is not None:
        raise errors.CustomOAuth2Error(
            "request_not_supported", "request objects are not supported", request=request
        )
    if getattr(request, "request_uri", None) is not None:
        raise errors.CustomOAuth2Error(
            "request_uri_not_supported", "request_uri is not supported", request=request
        )
    return {}


def check_claims_parameter(request: Any) -> dict[str, Any]:
    """OIDC Core 5.5: ``claims`` is a JSON object whose ``userinfo`` and ``id_token``
    members are objects of claim names to null or an object (oauthlib's own error would be
    a page)."""
    if not request.claims:
        return {}
    if not isinstance(request.claims, dict):
        try:
            request.claims = json.loads(request.claims)
        except (ValueError, RecursionError):
            request.claims = None
    if not _well_formed_claims(request.claims):
        request.claims = None
        raise errors.InvalidRequestError(
            description="claims must be a JSON object as in OpenID Connect Core 5.5",
            request=request,
        )
    return {}


def _well_formed_claims(claims: Any) -> bool:
    if not isinstance(claims, dict):
        return False
    for member in ("userinfo", "id_token"):
        requested = claims.get(member, {})
        if not isinstance(requested, dict):
            return False
        if not all(value is None or isinstance(value, dict) for value in requested.values()):
            return False
    return True


def check_pkce_challenge(request: Any) -> dict[str, Any]:
    """RFC 7636 4.2-4.3, RFC 9700 2.1.1: S256 only, a well-formed challenge."""
    if request.code_challenge is None:
        if request.code_challenge_method is not None:
            raise errors.InvalidRequestError(
                description="code_challenge_method without code_challenge", request=request
            )
        return {}
    if request.code_challenge_method != "S256":
        raise errors.InvalidRequestError(
            description="code_challenge_method must be S256", request=request
        )
    if not PKCE_VALUE.fullmatch(request.code_challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43 to 128 unreserved characters",
            request=request,
        )
    return {}


def check_state_and_nonce(request: Any) -> dict[str, Any]:
    """A documented limit on the opaque values we echo (state) and sign (nonce)."""
    if request.state is not None and len(request.state) > MAX_STATE_LENGTH:
        request.state = None  # never echo a value we refused
        raise errors.InvalidRequestError(
            description=f"state is longer than {MAX_STATE_LENGTH} characters", request=request
        )
    if request.nonce is not None and len(request.nonce) > MAX_NONCE_LENGTH:
        raise errors.InvalidRequestError(
            description=f"nonce is longer than {MAX_NONCE_LENGTH} characters", request=request
        )
    return {}


def check_verifier_matches_policy(request: Any) -> dict[str, Any]:
    """RFC 9700 2.1.1 / 4.8.2: a code_verifier without a stored challenge is a downgrade."""
    code = request.oidc_code
    if code.code_challenge is None and request.code_verifier is not None:
        raise errors.InvalidGrantError(
            description="code_verifier sent but the authorization request had no code_challenge",
            request=request,
        )
    if request.code_verifier is not None and not PKCE_VALUE.fullmatch(request.code_verifier):
        raise errors.InvalidGrantError(
            description="code_verifier must be 43 to 128 unreserved characters", request=request
        )
    return {}


AUTHORIZATION_CHECKS: tuple[Check, ...] = (
    check_response_type,
    check_response_mode,
    check_no_request_object,
    check_claims_parameter,
    check_state_and_nonce,
    check_pkce_challenge,
)
TOKEN_CHECKS: tuple[Check, ...] = (check_verifier_matches_policy,)
