"""The oauthlib RequestValidator: a switchboard of short methods.

Each method answers one question oauthlib asks and delegates to storage, claims or jose.
oauthlib's untyped request object stays inside this module; what we learn about it is
kept on a few named attributes (``oidc_client``, ``oidc_code``, ``oidc_refresh``).

Policies worth knowing (see ``docs/protocol.md``):

* OpenID Connect only: an authorization request without the ``openid`` scope is refused
  with ``invalid_scope``; unknown scope values are dropped, not refused.
* ``redirect_uri`` is required on every authorization request and compared as an exact
  string with the registered ones.
* A code is consumed together with the insertion of its access token, in
  :meth:`save_bearer_token`; a failed token request (wrong verifier, wrong redirect URI,
  wrong client) does not consume it.  A replayed code revokes the tokens issued from it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import RequestValidator

from ..claims import requested_claims
from ..records import User
from ..storage import NewCode
from .client_auth import ClientAuthentication
from .token_grants import TokenGrants

if TYPE_CHECKING:
    from ..accounts import Accounts
    from ..keys import KeyRing
    from ..settings import Settings
    from ..storage import Storage

log = logging.getLogger(__name__)


class CodeAlreadyIssued(Exception):
    """The pending authorization was completed by another request (double submit)."""


@dataclass
class CodeIssue:
    """What the authorization handler knows when it asks oauthlib for a code.

    Passed in as ``credentials={"oidc_issue": ...}``; the validator fills in ``code``.
    """

    user: User
    auth_time: int
    pending_id: int | None
    remember_consent: bool
    sid: str | None = None  # the browser session's (Back-Channel Logout 1.0)
    code: str = ""


def access_token_ttl(default: int) -> Any:
    """oauthlib's ``expires_in`` hook: the client's own access token lifetime, if it has one."""

    def expires_in(request: Any) -> int:
        client = getattr(request, "oidc_client", None)
        return (client.access_token_ttl if client else None) or default

    return expires_in


class Validator(ClientAuthentication, TokenGrants, RequestValidator):  # type: ignore[misc]
    def __init__(
        self, settings: Settings, storage: Storage, keys: KeyRing, accounts: Accounts
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.keys = keys
        self.accounts = accounts

    # -- authorization endpoint ------------------------------------------------------

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        client = self._client(client_id, request)
        return client is not None and redirect_uri in client.redirect_uris

    def get_default_redirect_uri(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        if request.grant_type is not None:
            raise errors.InvalidGrantError(
                description="redirect_uri is required (it was sent in the authorization request)",
                request=request,
            )
        return None  # OIDC Core 3.1.2.1: redirect_uri is required

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return response_type == "code"

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if request.grant_type == "client_credentials":
            return self._client_credentials_scopes(scopes, request)
        if "openid" not in scopes:
            return False
        client = self._client(client_id, request)
        if client is None:
            return False
        allowed = client.grantable_scopes
        request.scopes = [scope for scope in dict.fromkeys(scopes) if scope in allowed]
        return "openid" in request.scopes

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return []  # no default scope: a request without ``scope`` is refused (invalid_scope)

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        client = self._client(client_id, request)
        return self.settings.require_pkce or bool(
            client and (client.require_pkce or client.is_public)
        )

    # prompt=none, id_token_hint and the session are decided by the authorization
    # handler, which knows the browser session; oauthlib only validates the request.
    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return True

    def validate_user_match(
        self, id_token_hint: Any, scopes: Any, claims: Any, request: Any
    ) -> bool:
        return True

    def save_authorization_code(
        self, client_id: str, code: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        client = self._client(client_id, request)
        if client is None:
            raise errors.InvalidClientIdError(request=request)
        issue: CodeIssue = request.oidc_issue
        issued = self.storage.grants.issue_code(
            issue.pending_id,
            NewCode(
                code=code["code"],
                client_pk=client.id,
                user_id=issue.user.id,
                redirect_uri=request.redirect_uri,
                scopes=tuple(request.scopes),
                nonce=request.nonce,
                claims=request.claims if isinstance(request.claims, dict) else None,
                code_challenge=request.code_challenge,
                code_challenge_method=request.code_challenge_method,
                auth_time=issue.auth_time,
                ttl=self.settings.code_ttl,
                sid=issue.sid,
            ),
            remember_scopes=issue.remember_consent,
            consent_ttl=self.settings.consent_ttl,
        )
        if not issued:
            raise CodeAlreadyIssued()
        issue.code = code["code"]

    # -- token endpoint ------------------------------------------------------------

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        found = self._client(client_id, request) if client_id else None
        return found is not None and grant_type in found.grant_types

    def _code(self, code: str, request: Any) -> Any:
        if not hasattr(request, "oidc_code"):
            request.oidc_code = self.storage.grants.code(code) if code else None
        return request.oidc_code

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self._code(code, request)
        if grant is None or grant.client_pk != client.id:
            return False
        if grant.used:
            revoked = self.storage.grants.revoke_code_tokens(grant.id)
            log.warning("authorization code replayed; %d token(s) revoked", revoked)
            return False
        if grant.expires_at <= time.time():
            return False
        request.user = grant.user
        request.scopes = list(grant.scopes)
        request.claims = grant.claims
        return True

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if redirect_uri != self._code(code, request).redirect_uri:
            raise errors.InvalidGrantError(
                description="redirect_uri does not match the authorization request", request=request
            )
        return True

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        grant = self._code(code, request)
        if grant and grant.code_challenge is not None and request.code_verifier is None:
            # RFC 7636 4.6, RFC 9700 2.1.1: invalid_grant (oauthlib would say invalid_request).
            raise errors.InvalidGrantError(
                description="code_verifier is required for this code", request=request
            )
        return grant.code_challenge if grant else None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        grant = self._code(code, request)
        return grant.code_challenge_method if grant else None

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request: Any
    ) -> list[str]:
        grant = self._code(code, request)
        return list(grant.scopes) if grant else []

    def get_authorization_code_nonce(
        self, client_id: str, code: str, redirect_uri: str, request: Any
    ) -> str | None:
        grant = self._code(code, request)
        return grant.nonce if grant else None

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        if request.grant_type == "refresh_token":
            return self._save_refreshed(token, request)
        if request.grant_type == "client_credentials":
            return self._save_client_token(token, request)
        redeemed = self.storage.grants.redeem_code(
            request.oidc_code,
            token["access_token"],
            tuple(request.scopes),
            int(token["expires_in"]),
            self._new_refresh(token, request),
        )
        if not redeemed:
            raise errors.InvalidGrantError(description="code already used", request=request)

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """Nothing to do: :meth:`save_bearer_token` consumed the code atomically."""

    def get_id_token(self, token: Any, token_handler: Any, request: Any) -> None:
        return None  # let oauthlib prefill aud, iat, nonce, at_hash; finalize below

    def finalize_id_token(
        self, id_token: dict[str, Any], token: Any, token_handler: Any, request: Any
    ) -> str:
        """OIDC Core 2 and 3.1.3.6: add iss, sub, exp and auth_time (always, so also when
        ``max_age`` was sent), and the claims asked for by the ``claims`` parameter's
        ``id_token`` member (5.5) among those of the granted scopes; then sign."""
        code = getattr(request, "oidc_refresh", None) or request.oidc_code
        wanted = requested_claims(request.claims, "id_token")
        if wanted:
            values = self.accounts.claims(code.user, code.scopes) or {}
            id_token.update({name: values[name] for name in wanted if name in values})
        id_token.update(
            iss=self.settings.issuer,
            sub=code.user.subject,
            exp=id_token["iat"] + (request.oidc_client.id_token_ttl or self.settings.id_token_ttl),
            auth_time=code.auth_time,
        )
        sid = getattr(code, "sid", None)  # Back-Channel Logout 1.0 section 2.1
        if sid:
            id_token["sid"] = sid
        return self.keys.sign(id_token, request.oidc_client.id_token_signed_response_alg)
