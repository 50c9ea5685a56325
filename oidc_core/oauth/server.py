"""oauthlib composed with only what we offer (not ``oauthlib.openid.Server`` whole).

Authorization code grant (OAuth 2.0 and OpenID Connect, chosen by the ``openid`` scope),
refresh token grant (rotating), client credentials grant, bearer tokens, revocation
(RFC 7009) and introspection (RFC 7662).  PKCE is S256-only.  Each grant and endpoint has
its own validator (``request_validator=``), all sharing client authentication
(``client_auth.py``); which client may use which grant is ``validate_grant_type``.
UserInfo is not oauthlib's: ``endpoints/userinfo.py`` with ``bearer.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    RevocationEndpoint,
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

from ..access_tokens import AccessTokenGenerator, opaque
from .checks import AUTHORIZATION_CHECKS, TOKEN_CHECKS
from .code_grant import CodeValidator
from .token_endpoint import FormTokenEndpoint
from .token_grants import ClientCredentialsValidator, OwnTokensValidator, RefreshValidator

if TYPE_CHECKING:
    from ..accounts import Accounts
    from ..keys import KeyRing
    from ..settings import Settings
    from ..storage import Storage

S256_ONLY = {"S256": code_challenge_method_s256}


def access_token_ttl(default: int) -> Any:
    """oauthlib's ``expires_in`` hook: the client's own access token lifetime, if it has one."""

    def expires_in(request: Any) -> int:
        client = getattr(request, "oidc_client", None)
        return (client.access_token_ttl if client else None) or default

    return expires_in


def _checks() -> dict[str, list[Any]]:
    return {"pre_auth": list(AUTHORIZATION_CHECKS), "post_token": list(TOKEN_CHECKS)}


class ConfidentialIntrospectEndpoint(IntrospectEndpoint):  # type: ignore[misc]
    """RFC 7662 2.1: only an authenticated (confidential) client may introspect."""

    def _raise_on_invalid_client(self, request: Any) -> None:
        if not self.request_validator.authenticate_client(request):
            raise InvalidClientError(request=request)


class OAuthServer:
    """The oauthlib endpoints we use (authorization, token, revocation, introspection),
    sharing one token type; ``codes`` issues the codes of validated requests."""

    def __init__(
        self, settings: Settings, storage: Storage, keys: KeyRing, accounts: Accounts
    ) -> None:
        context = (settings, storage, keys, accounts)
        self.codes = CodeValidator(*context)
        refresh = RefreshValidator(*context)
        own_tokens = OwnTokensValidator(*context)
        bearer = BearerToken(  # its validator only decides rotate_refresh_token
            refresh,
            token_generator=AccessTokenGenerator(settings, keys, storage),
            refresh_token_generator=opaque,  # (the default would be the access token's)
            expires_in=access_token_ttl(settings.access_token_ttl),
        )
        oauth2_code = OAuth2AuthorizationCodeGrant(self.codes, **_checks())
        openid_code = OpenIDAuthorizationCodeGrant(self.codes, **_checks())
        for grant in (oauth2_code, openid_code.proxy_target):
            grant.refresh_token = True  # kept only with offline_access (save_bearer_token)
            grant._code_challenge_methods = S256_ONLY
        self.authorization = AuthorizationEndpoint(
            default_response_type="code",
            default_token_type=bearer,
            response_types={
                "code": AuthorizationCodeGrantDispatcher(
                    default_grant=oauth2_code, oidc_grant=openid_code
                )
            },
        )
        self.token = FormTokenEndpoint(
            default_grant_type="authorization_code",
            default_token_type=bearer,
            grant_types={
                "authorization_code": AuthorizationTokenGrantDispatcher(
                    self.codes, default_grant=oauth2_code, oidc_grant=openid_code
                ),
                "refresh_token": RefreshTokenGrant(refresh),
                "client_credentials": ClientCredentialsGrant(ClientCredentialsValidator(*context)),
            },
        )
        self.revocation = RevocationEndpoint(own_tokens)
        self.introspection = ConfidentialIntrospectEndpoint(own_tokens)
