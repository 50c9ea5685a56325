"""Protecting the host's own API with the provider's access tokens: RFC 6750.

:func:`authenticate` reads ``Authorization: Bearer <token>`` (RFC 6750 section 2.1), looks
the token up with :func:`look_up`, the check the UserInfo endpoint makes too (so a revoked or
expired token, or one of a deleted client, fails exactly as it does there) and returns a
:class:`TokenInfo`, or raises a :class:`BearerError` carrying the section 3.1 error:

* no credentials (no ``Authorization`` header, or one of another scheme): 401 with a bare
  ``WWW-Authenticate: Bearer realm="..."`` and no error information (section 3.1);
* a malformed header, or a token also sent in the query string: 400 ``invalid_request``;
* an unknown, expired or revoked token: 401 ``invalid_token``;
* a token without every required scope: 403 ``insufficient_scope`` with ``scope="..."``.

Only the header is read.  A token in the URL query is refused, never used: URLs end up in
server logs, browser history and ``Referer`` headers (RFC 6750 section 2.3, RFC 9700
section 2.3).  The form-body method (section 2.2) is not offered: it would make this code
read and buffer the body the host's view wants to read.

:class:`BearerMiddleware` answers the errors itself and puts the :class:`TokenInfo` in
``environ["oidc.token"]``; :func:`require_token` is the same check for a view (Pyramid's
request is a WebOb request; Bottle's ``request.environ`` is accepted as is).  The token names
the user by ``subject`` (the ID token's ``sub``) and gives the ``account`` of the provider's
account source: with a host account source, that is the host's own account.  A token of the
client credentials grant (RFC 6749 section 4.4) has no user: ``subject`` and ``account`` are
None and ``client_id`` names the machine client calling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from . import responses
from .accounts import Account
from .errors import StorageUnavailable, clean_description
from .records import AccessTokenGrant
from .storage import StorageError

if TYPE_CHECKING:
    from .accounts import Accounts
    from .context import Context
    from .storage import Storage

ENVIRON_KEY = "oidc.token"

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_CREDENTIALS = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)
# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
_REALM = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]*")


@dataclass(frozen=True)
class TokenInfo:
    """What a valid access token tells the host."""

    subject: str | None  # the user's ``sub`` (as in the ID token); None: client credentials
    scopes: frozenset[str]
    client_id: str  # the relying party the token was issued to
    expires_at: int  # seconds since the epoch
    account: Account | None  # the user, from the account source (docs/hosting.md); or None


class BearerError(Exception):
    """An RFC 6750 section 3.1 error; ``error`` is None when no credentials were sent."""

    def __init__(
        self,
        error: str | None,
        description: str,
        status: int,
        scope: Iterable[str] = (),
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = clean_description(description)
        self.status = status
        self.scope = tuple(scope)

    def challenge(self, realm: str) -> str:
        """The ``WWW-Authenticate`` value (RFC 6750 section 3)."""
        value = f'Bearer realm="{realm}"'
        if self.error is None:
            return value
        value += f', error="{self.error}", error_description="{self.description}"'
        if self.scope:
            value += f', scope="{" ".join(self.scope)}"'
        return value

    def response(self, realm: str) -> Response:
        """The whole answer: JSON error body (none without credentials) and the challenge."""
        headers = {"WWW-Authenticate": self.challenge(realm)}
        if self.error is None:
            response = Response(status=self.status, headers=headers)
            response.headers.update(responses.NO_STORE)
            return response
        body = {"error": self.error, "error_description": self.description}
        return responses.json_response(body, self.status, headers=headers)


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Required scopes, validated once (they are echoed in the challenge)."""
    if isinstance(scopes, str):
        raise TypeError("required scopes must be a sequence of scope names, not one string")
    checked = tuple(dict.fromkeys(scopes))
    for scope in checked:
        if not _SCOPE_TOKEN.fullmatch(scope):
            raise ValueError(f"not a valid scope name (RFC 6749 section 3.3): {scope!r}")
    return checked


def check_realm(realm: str) -> str:
    if not _REALM.fullmatch(realm):
        raise ValueError(f"the realm may not contain quotes, backslashes or controls: {realm!r}")
    return realm


def _token_of(request: Request) -> str:
    """The token from the Authorization header (RFC 6750 section 2.1) or an error."""
    if "access_token" in request.GET:
        raise BearerError(
            "invalid_request", "send the access token in the Authorization header", 400
        )
    header = request.headers.get("Authorization", "")
    if header.split(" ", 1)[0].lower() != "bearer":
        raise BearerError(None, "an access token is required", 401)
    match = _CREDENTIALS.fullmatch(header)
    if match is None:
        raise BearerError("invalid_request", "malformed Bearer credentials", 400)
    return match.group(1)


@dataclass(frozen=True)
class FoundToken:
    """An access token that storage says is live, with its user's account."""

    grant: AccessTokenGrant
    account: Account | None  # None: a client credentials token, or the account is gone

    @property
    def valid(self) -> bool:
        """Live, and of a user the account source still has (or of no user at all)."""
        return self.grant.user is None or self.account is not None


def look_up(storage: Storage, accounts: Accounts, token: str) -> FoundToken | None:
    """The one check of an access token, here and at /userinfo: one storage call decides
    whether it is live (unexpired, unrevoked, of an existing client); None if it is not.
    A user's account deleted from the host since makes it invalid (:attr:`FoundToken.valid`)."""
    if not token:
        return None
    grant = storage.grants.access_token(token)
    if grant is None:
        return None
    return FoundToken(grant, accounts.account_of(grant.user) if grant.user else None)


def authenticate(
    provider: Context, request: Request, required_scopes: Iterable[str] = ()
) -> TokenInfo:
    """The token of this request if it is live and has every required scope."""
    required = check_scopes(required_scopes)
    token = _token_of(request)
    invalid = BearerError("invalid_token", "the access token is invalid or expired", 401)
    if len(token) > provider.settings.max_param_length:
        raise invalid
    try:
        found = look_up(provider.storage, provider.accounts, token)
    finally:
        provider.storage.release()
    if found is None or not found.valid:
        raise invalid
    grant = found.grant
    info = TokenInfo(
        subject=grant.user.subject if grant.user else None,
        scopes=frozenset(grant.scopes),
        client_id=grant.client_id,
        expires_at=grant.expires_at,
        account=found.account,
    )
    if not info.scopes.issuperset(required):
        raise BearerError(
            "insufficient_scope", "the access token lacks a required scope", 403, required
        )
    return info


def require_token(
    provider: Context,
    request: Request | Mapping[str, Any],
    scopes: Iterable[str] = (),
) -> TokenInfo:
    """:func:`authenticate` for a view: a WebOb (Pyramid) request or a WSGI environ (Bottle).

    Raises :class:`BearerError`; answer it with ``error.response(realm)``.
    """
    if not isinstance(request, Request):
        request = Request(request)
    return authenticate(provider, request, scopes)


class BearerMiddleware:
    """WSGI middleware: requests under ``paths`` (default: all) need a valid access token.

    The :class:`TokenInfo` reaches the wrapped application in ``environ["oidc.token"]``;
    errors are answered here (:meth:`BearerError.response`).  ``paths`` are prefixes of
    ``PATH_INFO`` matched on whole segments: ``"/api"`` covers ``/api`` and ``/api/x``,
    not ``/apix``.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        provider: Context,
        required_scopes: Iterable[str] = (),
        paths: Iterable[str] | None = None,
        realm: str | None = None,
    ) -> None:
        self.app = app
        self.provider = provider
        self.required_scopes = check_scopes(required_scopes)
        self.paths = None if paths is None else tuple(p.rstrip("/") for p in paths)
        self.realm = check_realm(provider.settings.issuer if realm is None else realm)

    def protects(self, path: str) -> bool:
        if self.paths is None:
            return True
        return any(path == p or path.startswith(p + "/") for p in self.paths)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not self.protects(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        try:
            info = authenticate(self.provider, Request(environ), self.required_scopes)
        except BearerError as error:
            return error.response(self.realm)(environ, start_response)  # type: ignore[no-any-return]
        except StorageError:  # like the provider: a 503 with Retry-After, a new connection next
            self.provider.storage.close()
            unavailable = StorageUnavailable("the service is temporarily unavailable")
            return responses.error_json(unavailable)(environ, start_response)  # type: ignore[no-any-return]
        environ[ENVIRON_KEY] = info
        return self.app(environ, start_response)


__all__ = [
    "ENVIRON_KEY",
    "BearerError",
    "BearerMiddleware",
    "TokenInfo",
    "authenticate",
    "require_token",
]
