"""The authorization code grant's validator (OIDC Core 3.1, RFC 6749 4.1, RFC 7636): the
authorization request, the code it issues, and the code's exchange at the token endpoint.

Policies worth knowing (see ``docs/protocol.md``):

* OpenID Connect only: an authorization request without the ``openid`` scope is refused
  with ``invalid_scope``; unknown scope values are dropped, not refused.
* ``redirect_uri`` is required on every authorization request and compared as an exact
  string with the registered ones.
* The code is issued by :meth:`CodeValidator.issue_code` for a request validated once
  (``interactions/complete.py``), not through oauthlib's ``create_authorization_response``,
  which would validate it again.
* A code is consumed together with the insertion of its access token, in
  :meth:`~CodeValidator.save_bearer_token`; a failed token request (wrong verifier, wrong
  redirect URI, wrong client) does not consume it.  A replayed code revokes the tokens
  issued from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from oauthlib.oauth2.rfc6749 import errors

from .. import credentials
from ..records import CodeGrant, User
from ..storage import NewCode, NewRefresh
from .user_grants import UserGrantValidator, first_use

REPLAYED_CODE = "authorization code replayed; %d token(s) revoked"


class CodeAlreadyIssued(Exception):
    """The pending authorization was completed by another request (double submit)."""


@dataclass
class CodeIssue:
    """What the authorization handler knows when it issues a code."""

    user: User
    auth_time: int
    pending_id: int | None
    remember_consent: bool
    sid: str | None = None  # the browser session's (Back-Channel Logout 1.0)
    amr: tuple[str, ...] = ()  # how the user signed in (RFC 8176); (): not recorded
    acr: str | None = None  # the context class the ID token states


class CodeValidator(UserGrantValidator):
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
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kw: Any
    ) -> bool:
        if "openid" not in scopes:
            return False
        client = self._client(client_id, request)
        if client is None:
            return False
        allowed = client.grantable_scopes
        request.scopes = [scope for scope in dict.fromkeys(scopes) if scope in allowed]
        return "openid" in request.scopes

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

    def issue_code(self, request: Any, issue: CodeIssue) -> str:
        """Store a new 256-bit code for the validated authorization ``request`` and return
        it; :class:`CodeAlreadyIssued` when its pending authorization was completed."""
        client = request.oidc_client  # found when client_id was validated
        code = credentials.new_token()
        issued = self.storage.grants.issue_code(
            issue.pending_id,
            NewCode(
                code=code,
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
                amr=issue.amr,
                acr=issue.acr,
            ),
            remember_scopes=issue.remember_consent,
            consent_ttl=self.settings.consent_ttl,
        )
        if not issued:
            raise CodeAlreadyIssued()
        return code

    # -- token endpoint ------------------------------------------------------------

    def _grant(self, request: Any) -> Any:
        return request.oidc_code

    def _code(self, code: str, request: Any) -> Any:
        if not hasattr(request, "oidc_code"):
            request.oidc_code = self.storage.grants.code(code) if code else None
        return request.oidc_code

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self._code(code, request)
        if not first_use(grant, client, self._revoke_tokens, REPLAYED_CODE):
            return False
        if grant.expires_at <= time.time():
            return False
        if not self.accounts.active(grant.user):  # suspended or closed since: invalid_grant
            return False
        request.scopes = list(grant.scopes)
        request.claims = grant.claims
        return True

    def _revoke_tokens(self, code: CodeGrant) -> int:
        return self.storage.grants.revoke_code_tokens(code.id)

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
        redeemed = self.storage.grants.redeem_code(
            request.oidc_code,
            token["access_token"],
            tuple(request.scopes),
            int(token["expires_in"]),
            self._new_refresh(token, request),
        )
        if not redeemed:
            raise errors.InvalidGrantError(description="code already used", request=request)

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

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """Nothing to do: :meth:`save_bearer_token` consumed the code atomically."""
