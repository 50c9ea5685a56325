"""What the grants made on behalf of a user share: the authorization code grant
(``code_grant``) and the refresh token grant (``token_grants``).

* Their credential (a code, a refresh token) is the client's own and is used once; a used
  one presented again revokes what was issued from it (RFC 6749 section 4.1.2, RFC 9700
  sections 2.1.1 and 4.14.2).
* They issue ID tokens (OIDC Core sections 2, 3.1.3.6 and 12.2), signed here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeGuard, TypeVar

from ..claims import requested_claims
from ..subjects import subject_for
from .client_auth import ClientValidator

log = logging.getLogger(__name__)


class UserGrantValidator(ClientValidator):
    """The base of the code and refresh validators; ``_grant`` is the request's code or
    refresh token, as the grant's validator found it."""

    def _grant(self, request: Any) -> Any:
        raise NotImplementedError

    def get_id_token(self, token: Any, token_handler: Any, request: Any) -> None:
        return None  # let oauthlib prefill aud, iat, nonce, at_hash; finalize below

    def finalize_id_token(
        self, id_token: dict[str, Any], token: Any, token_handler: Any, request: Any
    ) -> str:
        """OIDC Core 2 and 3.1.3.6: add iss, sub, exp and auth_time (always, so also when
        ``max_age`` was sent), ``amr`` and ``acr`` as the sign-in recorded them (none for
        a grant from before they were), and the claims asked for by the ``claims``
        parameter's ``id_token`` member (5.5) among those of the granted scopes; then
        sign."""
        grant = self._grant(request)
        wanted = requested_claims(request.claims, "id_token")
        if wanted:
            values = self.accounts.claims(grant.user, grant.scopes) or {}
            id_token.update({name: values[name] for name in wanted if name in values})
        id_token.update(
            iss=self.settings.issuer,
            sub=subject_for(self.storage, request.oidc_client, grant.user.subject),
            exp=id_token["iat"] + (request.oidc_client.id_token_ttl or self.settings.id_token_ttl),
            auth_time=grant.auth_time,
        )
        if grant.amr:
            id_token["amr"] = list(grant.amr)
        if grant.acr:
            id_token["acr"] = grant.acr
        sid = getattr(grant, "sid", None)  # Back-Channel Logout 1.0 section 2.1
        if sid:
            id_token["sid"] = sid
        return self.keys.sign(id_token, request.oidc_client.id_token_signed_response_alg)


class OneUse(Protocol):
    """A code or a refresh token as stored."""

    @property
    def client_pk(self) -> int: ...

    @property
    def used(self) -> bool: ...


Grant = TypeVar("Grant", bound=OneUse)


def first_use(
    grant: Grant | None, client: Any, revoke: Callable[[Grant], int], replayed: str
) -> TypeGuard[Grant]:
    """The client's own credential, not used before.  A used one revokes what was issued
    from it (``revoke(grant)``) and logs ``replayed`` with the number of tokens revoked."""
    if grant is None or grant.client_pk != client.id:
        return False
    if grant.used:
        log.warning(replayed, revoke(grant))
        return False
    return True
