"""Serve the provider under a prefix of any WSGI application.

::

    from oidc_core import Provider, Settings
    from oidc_adapters.wsgi import OIDCMiddleware

    provider = Provider(Settings(issuer="https://www.example.com/oidc", ...))
    application = OIDCMiddleware(host_app, provider)  # /oidc/... -> provider, the rest -> host

Requests under the prefix go to the provider with the prefix moved to ``SCRIPT_NAME``;
every other request (``/oidcx`` included) reaches the wrapped application untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oidc_core import Provider

from . import mount_prefix, provider_environ

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OIDCMiddleware:
    """``app`` with ``provider`` mounted at ``prefix`` (default: the issuer's path)."""

    def __init__(self, app: WSGIApp, provider: Provider, prefix: str | None = None) -> None:
        self.app = app
        self.provider = provider
        self.prefix = mount_prefix(provider.settings, prefix)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        inner = provider_environ(environ, self.prefix)
        if inner is None:
            return self.app(environ, start_response)
        return self.provider(inner, start_response)
