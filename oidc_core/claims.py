"""Scopes to claims (OpenID Connect Core 1.0 section 5.4) and the released claim values."""

from __future__ import annotations

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
}
SUPPORTED_SCOPES = tuple(SCOPE_CLAIMS)
SUPPORTED_CLAIMS = tuple(dict.fromkeys(claim for names in SCOPE_CLAIMS.values() for claim in names))

SCOPE_DESCRIPTIONS = {
    "openid": "Sign you in and know it is you",
    "profile": "Your name, username and language",
    "email": "Your email address",
}


def _value(user: User, claim: str) -> Any:
    if claim == "sub":
        return user.subject
    if claim == "updated_at":
        return user.updated_at
    if claim == "email_verified":
        return user.email_verified
    return getattr(user, claim)


def claims_for(user: User, scopes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The claims released for ``scopes``: ``sub`` always, never an empty or null value."""
    released: dict[str, Any] = {"sub": user.subject}
    for scope in scopes:
        for claim in SCOPE_CLAIMS.get(scope, ()):
            value = _value(user, claim)
            if value is not None and value != "":
                released[claim] = value
    return released
