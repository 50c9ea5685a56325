"""Host applications with the provider mounted, one per adapter, as a user would write them.

Each host answers every request outside the provider's prefix with an echo of what it
received (``{"host", "method", "script_name", "path", "query", "body"}``), so tests can check
that the host's own requests arrive untouched and that none of them reaches the provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import bottle
from oidc_adapters import bottle as bottle_adapter
from oidc_adapters.pyramid import provider_of
from oidc_adapters.wsgi import OIDCMiddleware
from pyramid.config import Configurator
from pyramid.csrf import CookieCSRFStoragePolicy
from pyramid.events import NewRequest
from pyramid.response import Response as PyramidResponse

from oidc_core import Provider
from oidc_core.storage import Storage

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def echo(host: str, environ: dict[str, Any], body: bytes) -> bytes:
    return json.dumps(
        {
            "host": host,
            "method": environ["REQUEST_METHOD"],
            "script_name": environ.get("SCRIPT_NAME", ""),
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "body": body.decode("latin-1"),
        }
    ).encode()


def plain_host(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A plain WSGI application."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [echo("wsgi", environ, body)]


def middleware_host(provider: Provider) -> WSGIApp:
    return OIDCMiddleware(plain_host, provider)


def pyramid_host(settings: dict[str, str], storage: Storage) -> tuple[WSGIApp, Provider]:
    """A Pyramid application with global CSRF checks and a subscriber that reads every form
    body before any view runs; ``settings`` are strings, as in an ``.ini`` file."""
    config = Configurator(settings=settings)
    config.set_csrf_storage_policy(CookieCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.add_subscriber(_read_form, NewRequest)
    config.include("oidc_adapters.pyramid")
    config.set_oidc_storage(storage)
    config.add_route("host.form", "/form")  # a host form: CSRF-protected
    config.add_view(lambda request: PyramidResponse("posted"), route_name="host.form")
    config.add_notfound_view(_pyramid_echo)
    app = config.make_wsgi_app()
    return app, provider_of(app.registry)


def _read_form(event: Any) -> None:
    """Read and parse the body, as many host tweens do (in memory: WebOb's temporary file
    for a large body is never closed)."""
    event.request.request_body_tempfile_limit = 1 << 20
    event.request.POST  # noqa: B018


def _pyramid_echo(request: Any) -> PyramidResponse:
    return PyramidResponse(
        echo("pyramid", request.environ, request.body), content_type="application/json"
    )


def bottle_host(provider: Provider) -> WSGIApp:
    """A Bottle application whose before-request hook reads every body to its end."""
    app = bottle.Bottle()
    app.add_hook("before_request", lambda: bottle.request.body.read())
    bottle_adapter.mount(app, provider)

    @app.route("/", method="ANY")
    @app.route("/<path:path>", method="ANY")
    def _echo(path: str = "") -> bytes:
        bottle.response.content_type = "application/json"
        return echo("bottle", bottle.request.environ, bottle.request.body.read())

    return app
