"""The route table is one list of records: each path claimed once, each route reachable,
its metric name bounded and shared by its aliases; handlers get a :class:`Context`."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from webob import Request

from oidc_core import Provider, routes
from oidc_core.context import Context

# The endpoint label of metrics per path, as dashboards know them: renaming one breaks them.
METRIC_NAMES = {
    "/.well-known/openid-configuration": "discovery",
    "/oauth/openid-configuration.php": "discovery",
    "/jwks": "jwks",
    "/oauth/certs.php": "jwks",
    "/authorize": "authorize",
    "/oauth/authorize.php": "authorize",
    "/token": "token",
    "/oauth/token.php": "token",
    "/userinfo": "userinfo",
    "/oauth/userinfo.php": "userinfo",
    "/revoke": "revocation",
    "/introspect": "introspection",
    "/register": "registration",
    "/register/some-client-id": "client_configuration",
    "/login": "login",
    "/consent": "consent",
    "/end_session": "end_session",
    "/health/live": "health_live",
    "/health/ready": "health_ready",
    "/admin/metrics": "metrics",
    "/admin/api/clients": "admin_api",
    "/admin/api/": "admin_api",
    "/includes/api.php": "compat_api",
    "/admin": "admin_console",
    "/admin/api": "admin_console",
    "/admin/clients/new": "admin_console",
    "/account": "account",
    "/account/sessions": "account",
    "/": "root",
    "/static/oidc.css": "static",
    "/accounts": "other",
    "/administration": "other",
    "/no-such-page": "other",
}


def _name_of(path: str) -> str:
    found, route = routes.find(Request.blank(path))
    return routes.endpoint_name(found, route)


def test_every_path_keeps_its_metric_name() -> None:
    assert {path: _name_of(path) for path in METRIC_NAMES} == METRIC_NAMES


def test_the_deployment_guide_lists_every_metric_name() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
    listed = guide.split("`endpoint` is the route's name", 1)[1].split("for every path", 1)[0]
    names = {route.name for route in routes.ROUTES} | {"static", "root", "other"}
    assert set(re.findall(r"`([a-z_]+)`", listed)) == names


def test_one_record_per_handler_and_per_metric_name() -> None:
    names = Counter(route.name for route in routes.ROUTES)
    handlers = Counter(route.handler for route in routes.ROUTES)
    assert [name for name, n in names.items() if n > 1] == []
    assert [handler for handler, n in handlers.items() if n > 1] == []
    reserved = {"root", "static", "other"}  # the names of the paths no route serves
    for route in routes.ROUTES:
        assert re.fullmatch(r"[a-z][a-z_]*", route.name) and route.name not in reserved, route


def test_no_path_or_prefix_is_claimed_twice() -> None:
    paths = Counter(path for route in routes.ROUTES for path in route.paths)
    prefixes = Counter(prefix for route in routes.ROUTES for prefix in route.prefixes)
    assert [path for path, n in paths.items() if n > 1] == []
    assert [prefix for prefix, n in prefixes.items() if n > 1] == []
    for route in routes.ROUTES:
        assert route.paths or route.prefixes, route
        assert all(path.startswith("/") for path in route.paths), route
        assert all(prefix.startswith("/") and prefix.endswith("/") for prefix in route.prefixes)


def test_every_route_is_reachable_by_each_of_its_paths() -> None:
    for route in routes.ROUTES:
        for path in route.paths:
            assert routes.find(Request.blank(path)) == (path, route)
        for prefix in route.prefixes:
            page = prefix + "some-page"
            assert routes.find(Request.blank(page)) == (page, route)


def test_cors_is_served_by_the_endpoints_single_page_apps_call() -> None:
    served = {route.name: route.cors for route in routes.ROUTES if route.cors is not None}
    assert served == {
        "discovery": routes.Cors("public", ("GET", "HEAD")),
        "jwks": routes.Cors("public", ("GET", "HEAD")),
        "token": routes.Cors("client", ("POST",)),
        "revocation": routes.Cors("client", ("POST",)),
        "userinfo": routes.Cors("client", ("GET", "POST")),
    }


def test_only_discovery_and_the_health_checks_answer_without_the_schema() -> None:
    free = {route.name for route in routes.ROUTES if not route.needs_schema}
    assert free == {"discovery", "health_live", "health_ready"}


def test_the_provider_has_all_a_handler_may_use(provider: Provider) -> None:
    """mypy checks it in provider.py; this says which member is missing, at run time."""
    protocols = [klass for klass in Context.__mro__ if getattr(klass, "_is_protocol", False)]
    members = {
        name
        for klass in protocols
        for name in [*vars(klass), *vars(klass).get("__annotations__", {})]
        if not name.startswith("_")
    }
    assert members >= {"settings", "storage", "url", "error_page"}
    assert [name for name in sorted(members) if not hasattr(provider, name)] == []
