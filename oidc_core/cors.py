"""Cross-origin requests (the Fetch standard's CORS protocol) for single-page apps.

A browser application (a public client) calls discovery, the JWK Set, the token,
userinfo and revocation endpoints itself.  What a response may tell which origin:

* discovery and the JWK Set are public documents fetched without credentials:
  ``Access-Control-Allow-Origin: *``;
* token, userinfo and revocation echo the ``Origin`` only when it is a web origin of the
  public client involved (the request's ``client_id``; at userinfo, the client the access
  token was issued to), with ``Vary: Origin`` and never ``Access-Control-Allow-Credentials``.
  An error response whose client is not known (no or unknown ``client_id``, an invalid
  access token) is readable by the origin of any public client, so an app can read it;
* a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) carries no client: it is
  answered for an origin of any public client, otherwise the endpoint answers as usual.

A client's web origins are the origins (``scheme://host[:port]``) of its registered
redirect URIs, ``https`` or ``http`` on a loopback host.  Confidential clients get no CORS:
a secret does not belong in a browser.  Every other path (authorization, login, consent,
administration) never carries CORS headers (RFC 9700 section 2.6).  CORS is not
authentication: a request is processed exactly as without ``Origin``.
Which route serves which policy is said by its record in :mod:`oidc_core.routes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from webob import Request, Response

from .netloc import is_loopback_host
from .params import recorded_client_id
from .storage import StorageError

if TYPE_CHECKING:
    from .context import Context

# "public": any origin; "client": the web origins of the public client the handler found
# (named in the body, or the one the access token was issued to).
Policy = Literal["public", "client"]

PUBLIC = {"Access-Control-Allow-Origin": "*"}
MAX_AGE = "600"
ALLOW_HEADERS = "Authorization, Content-Type"
EXPOSE_HEADERS = "WWW-Authenticate"
DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(uri: str) -> str | None:
    """The web origin of a redirect URI (RFC 6454 serialization); None if it has none we
    serve CORS to (not https, or http on a host that is not loopback)."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not host or not (scheme == "https" or (scheme == "http" and is_loopback_host(host))):
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"


def origins(uris: Iterable[str]) -> frozenset[str]:
    return frozenset(filter(None, map(origin_of, uris)))


def _any_public_client(op: Context, origin: str) -> bool:
    """Is ``origin`` a web origin of some public client? (one query, few rows)"""
    candidates = op.storage.clients.public_redirect_uris(origin.split("://", 1)[-1])
    return origin in origins(candidates)


def _client_origins(op: Context, client_id: str) -> frozenset[str] | None:
    """The web origins of a client (empty for a confidential one); None if unknown."""
    client = op.storage.clients.by_client_id(client_id) if client_id else None
    if client is None:
        return None
    return origins(client.redirect_uris) if client.is_public else frozenset()


def _allowed(op: Context, request: Request, origin: str, status: int) -> bool:
    # The handler noted the client: the one a public client names in the body (token,
    # revocation), or the one the live access token was issued to (userinfo).
    allowed = _client_origins(op, recorded_client_id(request))
    if allowed is None:  # the client is not known: only an error, for any public client
        return status >= 400 and _any_public_client(op, origin)
    return origin in allowed


def _echo(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS


def _vary(response: Response) -> None:
    current = response.headers.get("Vary", "")
    if not current:  # the usual case: no other Vary to merge with
        response.headerlist.append(("Vary", "Origin"))
        return
    vary = [v for v in current.split(",") if v.strip()]
    if not any(v.strip().lower() == "origin" for v in vary):
        response.headers["Vary"] = ", ".join([*map(str.strip, vary), "Origin"])


def preflight(
    op: Context, request: Request, policy: Policy, methods: tuple[str, ...]
) -> Response | None:
    """The answer to a CORS preflight, or None when the endpoint should answer as usual."""
    origin = request.headers.get("Origin", "")
    wanted = request.headers.get("Access-Control-Request-Method", "")
    if not origin or wanted not in methods:
        return None
    if policy != "public" and not _any_public_client(op, origin):
        return None
    response = Response(status=204)
    response.headers.update(
        {
            "Access-Control-Allow-Origin": "*" if policy == "public" else origin,
            "Access-Control-Allow-Methods": ", ".join(methods),
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": MAX_AGE,
        }
    )
    if policy != "public":
        _vary(response)
    return response


def decorate(op: Context, request: Request, policy: Policy, response: Response) -> Response:
    """Add the CORS headers an endpoint's (success or error) response may carry."""
    if "Access-Control-Allow-Origin" in response.headers:  # a preflight's answer
        return response
    if policy == "public":
        response.headers.update(PUBLIC)
        return response
    _vary(response)
    origin = request.headers.get("Origin", "")
    if not origin or request.method == "OPTIONS":  # a refused preflight stays refused
        return response
    try:
        if _allowed(op, request, origin, response.status_code):
            _echo(response, origin)
    except StorageError:  # the answer stands; without CORS the app sees a network error
        op.storage.close()
    return response
