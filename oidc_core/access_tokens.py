"""Access tokens: opaque by default, JWT (RFC 9068) for a client that asked for them.

oauthlib calls the generator once per token response, after the grant was validated, so the
request already names the client, the user (None for client credentials), the scopes and
the lifetime.  Either way the token is stored as a digest like any other credential: a JWT
access token is only another token string, so expiry, revocation (RFC 7009, a replayed
code, a reused refresh token) and every lookup (/userinfo, /introspect, the host's bearer
helper) treat both formats alike.  A resource server may also verify a JWT access token on
its own with the JWKS; it then learns about a revocation only from introspection.

RFC 9068 section 2: header ``typ: at+jwt``, signed with our current key (RS256; ES256 on a
provider with only ES256 keys); claims ``iss``, ``exp``, ``aud``, ``sub``, ``client_id``,
``iat``, ``jti``, ``scope`` and, with a user, ``auth_time``.  ``aud`` is the resource the
token is for: our UserInfo endpoint (the only resource the provider knows; a host API that
verifies the JWT itself should expect it).  ``sub`` is the user's as the client sees it
(pairwise for a pairwise client, :mod:`oidc_core.subjects`), or for the client
credentials grant the client's ``client_id`` (section 2.2).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import credentials
from .subjects import subject_for

if TYPE_CHECKING:
    from .keys import KeyRing
    from .settings import Settings
    from .storage import Storage

JWT = "jwt"
TYP = "at+jwt"  # RFC 9068 section 2.1 (josepy writes it without "application/")


def opaque(request: Any) -> str:
    """A 256-bit random token (also every refresh token)."""
    return credentials.new_token()


class AccessTokenGenerator:
    """oauthlib's ``token_generator``: the format the token's client was registered with."""

    def __init__(self, settings: Settings, keys: KeyRing, storage: Storage) -> None:
        self._issuer = settings.issuer
        self._storage = storage
        self._audience = settings.issuer + "/userinfo"
        self._keys = keys

    def __call__(self, request: Any) -> str:
        client = getattr(request, "oidc_client", None)
        if client is None or client.access_token_format != JWT:
            return opaque(request)
        return self._keys.sign(self.claims(request), typ=TYP)

    def claims(self, request: Any) -> dict[str, Any]:
        """RFC 9068 section 2.2 claims of the token being issued."""
        client = request.oidc_client
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "exp": now + int(request.expires_in),
            "aud": self._audience,
            "sub": client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "jti": credentials.new_token(),
            "scope": " ".join(request.scopes or ()),
        }
        grant = getattr(request, "oidc_refresh", None) or getattr(request, "oidc_code", None)
        if request.grant_type != "client_credentials" and grant is not None:
            claims["sub"] = subject_for(self._storage, client, grant.user.subject)
            claims["auth_time"] = grant.auth_time
        return claims


__all__ = ["AccessTokenGenerator", "opaque"]
