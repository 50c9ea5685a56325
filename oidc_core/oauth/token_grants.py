"""Validator methods for refresh tokens, client credentials, revocation and introspection.

A mixin of :class:`~oidc_core.oauth.validator.Validator` (kept apart so each module stays
small); every method answers one oauthlib question and delegates to the grant store.

* RFC 6749 section 6 with RFC 9700 section 4.14.2: refresh tokens are bound to their
  client, rotated on every use (the new one keeps the grant's scopes and absolute expiry),
  and a used one presented again revokes its whole grant.  A refresh may narrow the scope
  of the new access token, never widen it.
* RFC 6749 section 4.4: the client credentials grant, for clients an administrator
  allowed it, with scopes from the client's allowed scopes (never ``openid`` or
  ``offline_access``, which are the user's).
* RFC 7009 and RFC 7662: a client revokes and introspects only its own tokens.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from oauthlib.oauth2.rfc6749 import errors

from ..storage import NewRefresh

if TYPE_CHECKING:
    from ..settings import Settings
    from ..storage import Storage

log = logging.getLogger(__name__)

USER_SCOPES = frozenset({"openid", "offline_access"})


class TokenGrants:
    settings: Settings
    storage: Storage

    def _new_refresh(self, token: dict[str, Any], request: Any) -> NewRefresh | None:
        """The refresh token oauthlib generated, kept only for a client allowed refresh
        tokens and a grant with ``offline_access`` (OIDC Core 11); dropped otherwise."""
        issued = token.pop("refresh_token", None)
        client = request.oidc_client
        if not issued or "offline_access" not in request.scopes:
            return None
        if "refresh_token" not in client.grant_types:
            return None
        token["refresh_token"] = issued
        return NewRefresh(
            issued, self.settings.refresh_token_idle_ttl, self.settings.refresh_token_absolute_ttl
        )

    # -- refresh token grant -------------------------------------------------------------

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self.storage.grants.refresh_token(refresh_token) if refresh_token else None
        if grant is None or grant.client_pk != client.id:
            return False
        if grant.used:
            revoked = self.storage.grants.revoke_grant(grant.grant_id)
            log.warning("refresh token replayed; grant revoked (%d token(s))", revoked)
            return False
        if not grant.live(time.time()):
            return False
        request.oidc_refresh = grant
        request.user = grant.user
        return True

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

    def _save_refreshed(self, token: dict[str, Any], request: Any) -> None:
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
            revoked = self.storage.grants.revoke_grant(old.grant_id)
            log.warning("refresh token replayed; grant revoked (%d token(s))", revoked)
            raise errors.InvalidGrantError(
                description="refresh token already used", request=request
            )

    # -- client credentials grant --------------------------------------------------------

    def _client_credentials_scopes(self, scopes: list[str], request: Any) -> bool:
        allowed = request.oidc_client.allowed_scopes - USER_SCOPES
        request.scopes = list(dict.fromkeys(scopes))
        return all(scope in allowed for scope in request.scopes)

    def _save_client_token(self, token: dict[str, Any], request: Any) -> None:
        self.storage.grants.issue_client_token(
            request.oidc_client.id,
            token["access_token"],
            tuple(request.scopes),
            int(token["expires_in"]),
        )

    # -- revocation and introspection ----------------------------------------------------

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
            claims["sub"] = info.subject
        if info.kind == "access_token":
            claims["token_type"] = "Bearer"  # noqa: S105 - a token type, not a secret
        return claims
