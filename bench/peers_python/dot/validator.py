"""The claims of the bench user in the ID token and at userinfo (DOT's documented hook)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class BenchValidator(OAuth2Validator):  # type: ignore[misc]
    oidc_claim_scope = OAuth2Validator.oidc_claim_scope

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "name": "Bench User",
            "preferred_username": user.username,
            "email": user.email,
            "email_verified": True,
        }
