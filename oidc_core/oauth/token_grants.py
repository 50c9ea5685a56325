"""The validators of the other token grants and of revocation and introspection.

Each class answers only what its oauthlib grant or endpoint asks, and delegates to the
grant store.

* RFC 6749 section 6 with RFC 9700 section 4.14.2 (:class:`RefreshValidator`): refresh
  tokens are bound to their client, rotated on every use (the new one keeps the grant's
  scopes and absolute expiry), and a used one presented again revokes its whole grant.
  A refresh may narrow the scope of the new access token, never widen it.
* RFC 6749 section 4.4 (:class:`ClientCredentialsValidator`): the client credentials
  grant, for clients an administrator allowed it, with scopes from the client's allowed
  scopes (never ``openid`` or ``offline_access``, which are the user's).
* RFC 7009 and RFC 7662 (:class:`OwnTokensValidator`): a client revokes and introspects
  only its own tokens.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from oauthlib.oauth2.rfc6749 import errors

from ..records import RefreshTokenGrant
from ..storage import NewRefresh
from ..subjects import subject_for
from .client_auth import ClientValidator
from .user_grants import UserGrantValidator, first_use

log = logging.getLogger(__name__)

USER_SCOPES = frozenset({"openid", "offline_access"})
REPLAYED_REFRESH = "refresh token replayed; grant revoked (%d token(s))"


class RefreshValidator(UserGrantValidator):
    """The refresh token grant (OpenID Connect's, so that it issues ID tokens)."""

    def _grant(self, request: Any) -> Any:
        return request.oidc_refresh

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self.storage.grants.refresh_token(refresh_token) if refresh_token else None
        if not first_use(grant, client, self._revoke_grant, REPLAYED_REFRESH):
            return False
        if not grant.live(time.time()):
            return False
        if not self.accounts.may_use(grant.user, client):
            return False  # suspended, closed, or refused by the host: invalid_grant
        request.oidc_refresh = grant
        return True

    def _revoke_grant(self, refresh: RefreshTokenGrant) -> int:
        return self.storage.grants.revoke_grant(refresh.grant_id)

    def get_original_scopes(
        self, refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(request.oidc_refresh.scopes)

    def is_within_original_scope(
        self, request_scopes: list[str], refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return False  # only a subset of the grant's scopes (invalid_scope otherwise)

    def rotate_refresh_token(self, request: Any) -> bool:
        return True

    def refresh_id_token(self, request: Any) -> bool:
        return True  # with openid in scope; it keeps sub and auth_time (OIDC Core 12.2)

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        old = request.oidc_refresh
        rotated = self.storage.grants.rotate(
            old,
            token["access_token"],
            tuple(request.scopes),
            int(token["expires_in"]),
            NewRefresh(
                token["refresh_token"],
                self.settings.refresh_token_idle_ttl,
                self.settings.refresh_token_absolute_ttl,  # rotate keeps the grant's own
            ),
        )
        if not rotated:  # used by a concurrent request in the meantime: a replay
            log.warning(REPLAYED_REFRESH, self._revoke_grant(old))
            raise errors.InvalidGrantError(
                description="refresh token already used", request=request
            )


class ClientCredentialsValidator(ClientValidator):
    """The client credentials grant: a token for the client itself, no user."""

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kw: Any
    ) -> bool:
        allowed = request.oidc_client.allowed_scopes - USER_SCOPES
        request.scopes = list(dict.fromkeys(scopes))
        return all(scope in allowed for scope in request.scopes)

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        self.storage.grants.issue_client_token(
            request.oidc_client.id,
            token["access_token"],
            tuple(request.scopes),
            int(token["expires_in"]),
        )


class OwnTokensValidator(ClientValidator):
    """Revocation and introspection: a client's questions about its own tokens."""

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """RFC 7009 2.2: the same answer whether or not anything was revoked."""
        self.storage.grants.revoke(token, request.oidc_client.id, token_type_hint)

    def introspect_token(
        self, token: str, token_type_hint: str | None, request: Any, *args: Any, **kwargs: Any
    ) -> dict[str, Any] | None:
        """RFC 7662 2.2: a live token of the asking client; inactive for anything else."""
        info = self.storage.grants.token_info(token, token_type_hint)
        if info is None or info.client_pk != request.oidc_client.id:
            return None
        claims: dict[str, Any] = {
            "scope": " ".join(info.scopes),
            "client_id": info.client_id,
            "exp": info.expires_at,
            "iat": info.issued_at,
            "iss": self.settings.issuer,
        }
        if info.subject is not None:
            claims["sub"] = subject_for(self.storage, request.oidc_client, info.subject)
        if info.kind == "access_token":
            claims["token_type"] = "Bearer"  # noqa: S105 - a token type, not a secret
        return claims
