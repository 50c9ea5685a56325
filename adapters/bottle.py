"""Mount the provider on a Bottle application.

::

    import bottle
    from oidc_adapters.bottle import mount

    app = bottle.Bottle()
    app.config.load_config("app.ini")  # an [oidc] section: issuer = https://www.example.com/oidc
    provider = mount(app)              # /oidc/... -> the provider, the rest -> your routes

The settings are the ``oidc.*`` keys of ``app.config``, read by ``Settings.from_mapping``.

This is Bottle's ``app.mount`` with three differences that matter to the provider: every
path under the prefix reaches it (Bottle's mount route does not match a path with a
newline), the provider sees the path exactly as the server sent it (Bottle decodes
``PATH_INFO`` for its router, dropping bytes that are not UTF-8, and tidies slashes), and a
body that a hook or plugin has read is handed over re-wound (Bottle keeps it buffered).
"""

from __future__ import annotations

from typing import Any

import bottle
from webob import Request

from oidc_core import Provider, Settings

from . import mount_prefix, provider_environ


def mount(app: Any, provider: Provider | None = None, prefix: str | None = None) -> Provider:
    """Mount ``provider`` (default: built from ``app.config``) at ``prefix`` (default: the
    issuer's path) on the Bottle application ``app``; return the provider."""
    if provider is None:
        provider = Provider(Settings.from_mapping(app.config, prefix="oidc."))
    path = mount_prefix(provider.settings, prefix)
    hand_over = _HandOver(provider, path)
    # PROXY: before the application's own routes, for every method (as Bottle's mount).
    for rule in (path, path + "/<:re:[\\s\\S]*>"):
        app.route(rule, method="PROXY", callback=hand_over, skip=True)
    return provider


class _HandOver:
    """The route: the request as the server sent it, prefix moved, to the provider."""

    def __init__(self, provider: Provider, prefix: str) -> None:
        self.provider = provider
        self.prefix = prefix

    def __call__(self) -> Any:
        environ = bottle.request.environ
        body = environ.get("bottle.request.body")
        if body is not None:
            body.seek(0)
        raw = dict(environ, PATH_INFO=environ["bottle.raw_path"])
        inner = provider_environ(raw, self.prefix)
        if inner is None:  # Bottle matched the decoded path, not the one sent
            response = self.provider.error_page("There is nothing at this address.", 404)
        else:
            response = Request(inner).get_response(self.provider)
        # WSGI header values are latin-1 strings; Bottle expects text and encodes it again.
        headers = [(k, v.encode("latin-1").decode("utf-8")) for k, v in response.headerlist]
        return bottle.HTTPResponse(response.app_iter, response.status, headers)
