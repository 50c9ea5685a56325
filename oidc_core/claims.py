"""Scopes to claims (OpenID Connect Core 1.0 section 5.4) and the released claim values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .records import User

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": (
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "offline_access": (),  # refresh tokens (OIDC Core 11), no claims
}
SUPPORTED_SCOPES = tuple(SCOPE_CLAIMS)
SUPPORTED_CLAIMS = tuple(dict.fromkeys(claim for names in SCOPE_CLAIMS.values() for claim in names))

# The claims a user may change on the account pages (built-in accounts only).
EDITABLE_CLAIMS = ("name", "given_name", "family_name", "preferred_username", "locale")

SCOPE_DESCRIPTIONS = {
    "openid": "Sign you in and know it is you",
    "profile": "Your name, username and language",
    "email": "Your email address",
    "offline_access": "Stay connected to your account when you are not using it",
}


def user_claims(user: User) -> dict[str, Any]:
    """The claim values of a built-in account (its ``oidc_user`` row)."""
    return {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.preferred_username,
        "locale": user.locale,
        "updated_at": user.updated_at,
        "email": user.email,
        "email_verified": user.email_verified,
    }


def requested_claims(claims_parameter: Any, member: str) -> list[str]:
    """Claim names the ``claims`` request parameter (OIDC Core 5.5) asks for in ``member``
    (``id_token`` or ``userinfo``), ``sub`` excepted: it is always there."""
    if not isinstance(claims_parameter, Mapping):
        return []
    requested = claims_parameter.get(member)
    if not isinstance(requested, Mapping):
        return []
    return [name for name in requested if isinstance(name, str) and name != "sub"]


def released(values: Mapping[str, Any], subject: str, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims released for ``scopes``: ``sub`` always (ours, whatever ``values`` say),
    only the claims of those scopes, never an empty or null value."""
    out: dict[str, Any] = {"sub": subject}
    for scope in scopes:
        for claim in SCOPE_CLAIMS.get(scope, ()):
            value = values.get(claim)
            if claim != "sub" and value is not None and value != "":
                out[claim] = value
    return out
