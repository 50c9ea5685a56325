"""The base of every request validator: find the client and authenticate it (RFC 6749
section 2.3).

Each oauthlib grant and endpoint gets its own validator class (``code_grant``,
``user_grants``, ``token_grants``), as Authlib gives each grant its own class; all of them
share this one for the client.  The client looked up for a request is kept on it as
``oidc_client`` (one query per request).  ``client_secret_basic`` and
``client_secret_post`` are accepted, never both in one request; a public client
(``token_endpoint_auth_method: none``) sends only its ``client_id`` and proves the rest
with PKCE.  During the grace period after a secret reset the previous secret works too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import RequestValidator

from .. import credentials
from ..params import basic_credentials
from ..records import Client

if TYPE_CHECKING:
    from ..accounts import Accounts
    from ..keys import KeyRing
    from ..settings import Settings
    from ..storage import Storage


class ClientValidator(RequestValidator):  # type: ignore[misc]
    """Client lookup and authentication, and which grants a client may use."""

    def __init__(
        self, settings: Settings, storage: Storage, keys: KeyRing, accounts: Accounts
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.keys = keys
        self.accounts = accounts

    def _client(self, client_id: str, request: Any) -> Client | None:
        cached: Client | None = getattr(request, "oidc_client", None)
        if cached is not None and cached.client_id == client_id:
            return cached
        client = self.storage.clients.by_client_id(client_id)
        request.oidc_client = client
        if client is not None:
            request.client = client  # oauthlib reads request.client.client_id
        return client

    def validate_client_id(self, client_id: str, request: Any) -> bool:
        return self._client(client_id, request) is not None

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        """Public clients (``token_endpoint_auth_method: none``) send only their client_id."""
        if "Authorization" in request.headers or request.client_secret is not None:
            return True
        client = self._client(request.client_id, request) if request.client_id else None
        return not (client is not None and client.is_public)

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        """client_secret_basic or client_secret_post, never both (RFC 6749 2.3)."""
        basic = _basic_credentials(request)
        body_secret = request.client_secret
        if basic is not None and (
            body_secret is not None or request.client_id not in (None, basic[0])
        ):
            if body_secret is not None:
                raise errors.InvalidRequestError(
                    description="use one client authentication method, not two", request=request
                )
            raise errors.InvalidClientError(request=request)
        if basic is not None:
            client_id, secret = basic
        elif request.client_id and body_secret is not None:
            client_id, secret = request.client_id, body_secret
        else:
            return False
        client = self._client(client_id, request)
        if client is None:
            credentials.digest_matches(secret, "0" * 64)  # same work as a known client
            return False
        if client.is_public or not _secret_matches(client, secret):
            return False
        request.client_id = client.client_id
        return True

    def authenticate_client_id(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """A public client identifies itself; PKCE (required for it) proves the rest."""
        client = self._client(client_id, request) if client_id else None
        return client is not None and client.is_public

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return []  # no default scope: a request without ``scope`` is refused (invalid_scope)

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        found = self._client(client_id, request) if client_id else None
        return found is not None and grant_type in found.grant_types


def _basic_credentials(request: Any) -> tuple[str, str] | None:
    """The HTTP Basic credentials of the request; a malformed header is ``invalid_client``."""
    try:
        basic = basic_credentials(request.headers.get("Authorization", ""))
    except ValueError:
        raise errors.InvalidClientError(request=request) from None
    if basic is None:
        return None
    client_id, secret = basic
    if secret is None:
        raise errors.InvalidClientError(request=request)
    return client_id, secret


def _secret_matches(client: Client, secret: str) -> bool:
    """The current secret, or the previous one during its grace period after a reset."""
    if credentials.digest_matches(secret, client.secret_digest):
        return True
    previous, until = client.previous_secret_digest, client.previous_secret_expires_at
    return bool(previous and until and until > time.time()) and credentials.digest_matches(
        secret, previous or ""
    )
