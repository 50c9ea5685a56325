"""The provider's routes, one record each: the paths a handler answers, whether it answers
in HTML, the bounded name its requests are counted under, the CORS it serves and whether it
needs the schema.  Adding an endpoint is one record in :data:`ROUTES`.  (:mod:`.routing`
matches the pages inside the admin console and the account area.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webob import Request, Response

from . import health
from .account import dispatch as account_pages
from .admin import api, compat, console
from .admin.metrics import metrics
from .context import Context
from .cors import Policy
from .endpoints import (
    authorize,
    discovery,
    introspection,
    registration,
    revocation,
    token,
    userinfo,
)
from .endpoints.end_session import end_session
from .interactions import consent, login, passkey_sign_in, second_factor

Handler = Callable[[Context, Request], Response]


@dataclass(frozen=True)
class Cors:
    """The CORS a route serves (:mod:`.cors`): its policy, and the methods a preflight may
    ask for.  Routes without one never carry CORS headers."""

    policy: Policy
    methods: tuple[str, ...]


PUBLIC_DOCUMENT = Cors("public", ("GET", "HEAD"))  # readable by any origin
CLIENT_POST = Cors("client", ("POST",))  # by the origins of the client the handler found


@dataclass(frozen=True)
class Route:
    """One endpoint or area.  ``paths`` match exactly; ``prefixes`` own every path that
    starts with them (an exact path wins over a prefix, a longer prefix over a shorter)."""

    name: str  # the endpoint label of metrics: bounded, shared by a route's aliases
    handler: Handler
    paths: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    html: bool = False  # errors answered as pages (else as JSON)
    cors: Cors | None = None
    needs_schema: bool = True  # False: answers without the database's schema being current
    translated: bool = True  # False: its error pages are in English (the admin console)


# The ".php" aliases are the paths relying parties configured for the reference billing
# system.  Discovery comes from the settings and the health checks say themselves what is
# wrong: they answer without the schema.
ROUTES: tuple[Route, ...] = (
    Route(
        "discovery",
        discovery.discovery,
        ("/.well-known/openid-configuration", "/oauth/openid-configuration.php"),
        cors=PUBLIC_DOCUMENT,
        needs_schema=False,
    ),
    Route("jwks", discovery.jwks, ("/jwks", "/oauth/certs.php"), cors=PUBLIC_DOCUMENT),
    Route("authorize", authorize.authorize, ("/authorize", "/oauth/authorize.php"), html=True),
    Route("token", token.token, ("/token", "/oauth/token.php"), cors=CLIENT_POST),
    Route(
        "userinfo",
        userinfo.userinfo,
        ("/userinfo", "/oauth/userinfo.php"),
        cors=Cors("client", ("GET", "POST")),  # the client of the token
    ),
    Route("revocation", revocation.revoke, ("/revoke",), cors=CLIENT_POST),
    Route("introspection", introspection.introspect, ("/introspect",)),
    Route("registration", registration.register, (registration.REGISTER,)),
    Route("client_configuration", registration.configure, prefixes=(registration.CONFIGURE,)),
    Route("login", login.login, ("/login",), html=True),
    Route("second_factor", second_factor.second_factor, ("/login/second-factor",), html=True),
    Route("consent", consent.consent, ("/consent",), html=True),
    Route("passkey_options", passkey_sign_in.options, ("/passkey/options",)),
    Route("end_session", end_session, ("/end_session",), html=True),
    Route("health_live", health.live, ("/health/live",), needs_schema=False),
    Route("health_ready", health.ready, ("/health/ready",), needs_schema=False),
    Route("metrics", metrics, ("/admin/metrics",)),
    Route("admin_api", api.dispatch, prefixes=("/admin/api/",)),
    # The reference billing system's credential API, for its provisioning scripts.
    Route("compat_api", compat.dispatch, (compat.PATH,)),
    Route(
        "admin_console",
        console.dispatch,
        ("/admin",),
        prefixes=("/admin/",),
        html=True,
        translated=False,
    ),
    Route("account", account_pages.dispatch, ("/account",), prefixes=("/account/",), html=True),
)


BY_PATH: dict[str, Route] = {path: route for route in ROUTES for path in route.paths}
# Longest prefix first, so that /admin/api/ is the API's, not the console's.
BY_PREFIX: tuple[tuple[str, Route], ...] = tuple(
    sorted(
        ((prefix, route) for route in ROUTES for prefix in route.prefixes),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )
)


def find(request: Request) -> tuple[str | None, Route | None]:
    """The request's path (None: not UTF-8) and its route (None: none of ours)."""
    try:
        path = request.path_info or "/"  # the bare mount prefix is our root
    except UnicodeDecodeError:  # a percent-encoded path that is not UTF-8
        return None, None
    route = BY_PATH.get(path)
    if route is None:
        route = next((r for prefix, r in BY_PREFIX if path.startswith(prefix)), None)
    return path, route


def endpoint_name(path: str | None, route: Route | None) -> str:
    """The route's name for metrics labels; "other" for every path we do not serve."""
    if route is not None:
        return route.name
    if path == "/":
        return "root"
    return "static" if path is not None and path.startswith("/static/") else "other"
