"""A plain WSGI application with the provider mounted at /oidc by ``OIDCMiddleware``.

Run it from the repository root::

    .venv/bin/python examples/wsgi_middleware/app.py

It prepares its SQLite database as ``oidc-core init --demo`` does (schema, signing key, a
demo user and a demo client, printed), then serves http://127.0.0.1:8000/: the host
application's page at ``/``, the provider under ``/oidc``.  Settings are the ``OIDC_*``
environment variables (``docs/configuration.md``); the port is the issuer's.  The standard
library's wsgiref serves it, a thread per connection (``oidc_adapters.devserver``): a
development server only.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oidc_adapters.devserver import serve
from oidc_adapters.wsgi import OIDCMiddleware

from oidc_core import Provider, Settings, cli

DEFAULTS = {
    "OIDC_ISSUER": "http://127.0.0.1:8000/oidc",
    "OIDC_DATABASE_URL": "sqlite:///var/wsgi_middleware.db",
}


def host_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The application the provider is added to: every path outside /oidc is its own."""
    path = html.escape(environ.get("PATH_INFO", "/"))
    body = f"<h1>The host application</h1><p>You asked for {path}.</p>"
    body += '<p>The provider: <a href="/oidc/.well-known/openid-configuration">discovery</a></p>'
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body.encode()]


def main() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    Path("var").mkdir(exist_ok=True)
    cli.main(["init", "--demo"])  # idempotent; a new demo password and secret each time
    provider = Provider(Settings.from_env())
    application = OIDCMiddleware(host_app, provider)  # /oidc/... -> provider, rest -> host
    port = urlsplit(provider.settings.issuer).port or 80
    print(f"host application on http://127.0.0.1:{port}/", flush=True)
    serve(application, "127.0.0.1", port)  # a thread per connection


if __name__ == "__main__":
    main()
