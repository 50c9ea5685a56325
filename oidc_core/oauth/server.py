"""oauthlib composed with only what we offer (not ``oauthlib.openid.Server`` whole).

Authorization code grant (OAuth 2.0 and OpenID Connect, chosen by the ``openid`` scope),
refresh token grant (rotating), client credentials grant, bearer tokens,
revocation (RFC 7009) and introspection (RFC 7662).  PKCE is S256-only.  Which client may
use which grant is the validator's ``validate_grant_type``.
"""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.errors import InvalidClientError
from oauthlib.oauth2.rfc6749.grant_types import (
    AuthorizationCodeGrant as OAuth2AuthorizationCodeGrant,
)
from oauthlib.oauth2.rfc6749.grant_types import ClientCredentialsGrant
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.oauth2.rfc6749.tokens import BearerToken
from oauthlib.openid.connect.core.grant_types import (
    AuthorizationCodeGrant as OpenIDAuthorizationCodeGrant,
)
from oauthlib.openid.connect.core.grant_types import RefreshTokenGrant
from oauthlib.openid.connect.core.grant_types.dispatchers import (
    AuthorizationCodeGrantDispatcher,
    AuthorizationTokenGrantDispatcher,
)

from .. import credentials
from ..access_tokens import AccessTokenGenerator, opaque
from .checks import AUTHORIZATION_CHECKS, TOKEN_CHECKS
from .validator import Validator, access_token_ttl

S256_ONLY = {"S256": code_challenge_method_s256}


def _strong_code(grant: dict[str, Any], token_handler: Any, request: Any) -> dict[str, Any]:
    """Replace oauthlib's 30-character code with a 256-bit one like every other credential."""
    grant["code"] = credentials.new_token()
    return grant


def _checks() -> dict[str, list[Any]]:
    return {"pre_auth": list(AUTHORIZATION_CHECKS), "post_token": list(TOKEN_CHECKS)}


class ConfidentialIntrospectEndpoint(IntrospectEndpoint):  # type: ignore[misc]
    """RFC 7662 2.1: only an authenticated (confidential) client may introspect."""

    def _raise_on_invalid_client(self, request: Any) -> None:
        if not self.request_validator.authenticate_client(request):
            raise InvalidClientError(request=request)


class OAuthServer:
    """The oauthlib endpoints we use (authorization, token, revocation, introspection),
    sharing one validator and token type."""

    def __init__(self, validator: Validator, default_ttl: int) -> None:
        bearer = BearerToken(  # the refresh token generator defaults to the access token's
            validator,
            token_generator=AccessTokenGenerator(validator.settings, validator.keys),
            refresh_token_generator=opaque,
            expires_in=access_token_ttl(default_ttl),
        )
        oauth2_code = OAuth2AuthorizationCodeGrant(validator, **_checks())
        openid_code = OpenIDAuthorizationCodeGrant(validator, **_checks())
        for grant in (oauth2_code, openid_code.proxy_target):
            grant.refresh_token = True  # kept only with offline_access (save_bearer_token)
            grant._code_challenge_methods = S256_ONLY
            grant.register_code_modifier(_strong_code)
        self.authorization = AuthorizationEndpoint(
            default_response_type="code",
            default_token_type=bearer,
            response_types={
                "code": AuthorizationCodeGrantDispatcher(
                    default_grant=oauth2_code, oidc_grant=openid_code
                )
            },
        )
        self.token = TokenEndpoint(
            default_grant_type="authorization_code",
            default_token_type=bearer,
            grant_types={
                "authorization_code": AuthorizationTokenGrantDispatcher(
                    validator, default_grant=oauth2_code, oidc_grant=openid_code
                ),
                "refresh_token": RefreshTokenGrant(validator),
                "client_credentials": ClientCredentialsGrant(validator),
            },
        )
        self.revocation = RevocationEndpoint(validator)
        self.introspection = ConfidentialIntrospectEndpoint(validator)
