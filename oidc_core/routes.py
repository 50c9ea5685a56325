"""The provider's routes: which handler answers a path, whether it answers in HTML, and
the bounded name its requests are counted under.  (:mod:`.routing` matches the pages
inside the admin console and the account area.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from webob import Request, Response

from . import health
from .account import dispatch as account_pages
from .admin import api, console
from .admin.metrics import metrics
from .endpoints import authorize, discovery, introspection, revocation, token, userinfo
from .endpoints.end_session import end_session
from .interactions import consent, login

if TYPE_CHECKING:
    from .provider import Provider

Handler = Callable[["Provider", Request], Response]
Route = tuple[Handler, bool]  # the handler, and whether it answers in HTML

# path -> (handler, answers in HTML?).  The ".php" aliases are the paths relying parties
# configured for the reference billing system.
ROUTES: dict[str, Route] = {
    "/.well-known/openid-configuration": (discovery.discovery, False),
    "/oauth/openid-configuration.php": (discovery.discovery, False),
    "/jwks": (discovery.jwks, False),
    "/oauth/certs.php": (discovery.jwks, False),
    "/authorize": (authorize.authorize, True),
    "/oauth/authorize.php": (authorize.authorize, True),
    "/token": (token.token, False),
    "/oauth/token.php": (token.token, False),
    "/userinfo": (userinfo.userinfo, False),
    "/oauth/userinfo.php": (userinfo.userinfo, False),
    "/revoke": (revocation.revoke, False),
    "/introspect": (introspection.introspect, False),
    "/login": (login.login, True),
    "/consent": (consent.consent, True),
    "/end_session": (end_session, True),
    "/health/live": (health.live, False),
    "/health/ready": (health.ready, False),
    "/admin/metrics": (metrics, False),
}
# The endpoint label of metrics: bounded, one name per route (aliases share it).
ENDPOINT_NAMES: dict[Handler, str] = {
    discovery.discovery: "discovery",
    discovery.jwks: "jwks",
    authorize.authorize: "authorize",
    token.token: "token",
    userinfo.userinfo: "userinfo",
    revocation.revoke: "revocation",
    introspection.introspect: "introspection",
    login.login: "login",
    consent.consent: "consent",
    end_session: "end_session",
    health.live: "health_live",
    health.ready: "health_ready",
    metrics: "metrics",
    api.dispatch: "admin_api",
    console.dispatch: "admin_console",
    account_pages.dispatch: "account",
}


def _prefix_route(path: str) -> Route | None:
    """The administration areas and the account pages own everything under their prefix."""
    if path.startswith("/admin/api/"):
        return api.dispatch, False
    if path == "/admin" or path.startswith("/admin/"):
        return console.dispatch, True
    if path == "/account" or path.startswith("/account/"):
        return account_pages.dispatch, True
    return None


# Handlers that answer without the schema: discovery comes from the settings, the health
# checks say themselves what is wrong.
SCHEMA_FREE: frozenset[Handler] = frozenset({discovery.discovery, health.live, health.ready})


def find(request: Request) -> tuple[str | None, Route | None]:
    """The request's path (None: not UTF-8) and its route (None: none of ours)."""
    try:
        path = request.path_info or "/"  # the bare mount prefix is our root
    except UnicodeDecodeError:  # a percent-encoded path that is not UTF-8
        return None, None
    return path, ROUTES.get(path) or _prefix_route(path)


def endpoint_name(path: str | None, route: Route | None) -> str:
    """The route's name for metrics labels; "other" for every path we do not serve."""
    if route is not None:
        return ENDPOINT_NAMES.get(route[0], "other")
    if path == "/":
        return "root"
    return "static" if path is not None and path.startswith("/static/") else "other"
