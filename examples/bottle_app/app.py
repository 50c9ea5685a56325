"""A Bottle application with the provider mounted at /oidc by ``oidc_adapters.bottle``.

Run it from the repository root::

    .venv/bin/python examples/bottle_app/app.py

The provider's settings are the ``[oidc]`` section of ``app.ini`` (``OIDC_ISSUER`` and
``OIDC_DATABASE_URL`` in the environment override them).  It prepares the database as
``oidc-core init --demo`` does (schema, signing key, a demo user and a demo client,
printed), then serves http://127.0.0.1:8080/: Bottle's own routes, and the provider under
``/oidc``.  The port is the issuer's.  Bottle's development server (wsgiref), a thread per
connection (``oidc_adapters.devserver``): not for production.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import bottle
from oidc_adapters.bottle import mount
from oidc_adapters.devserver import ThreadingWSGIServer

from oidc_core import cli

HERE = Path(__file__).parent
app = bottle.Bottle()


@app.route("/")
def home() -> str:
    return (
        "<h1>A Bottle application</h1>"
        '<p>The provider: <a href="/oidc/.well-known/openid-configuration">discovery</a></p>'
    )


def configure() -> None:
    app.config.load_config(str(HERE / "app.ini"))
    for key in ("issuer", "database_url"):
        override = os.environ.get("OIDC_" + key.upper())
        if override:
            app.config["oidc." + key] = override


def prepare_database() -> None:
    """``oidc-core init --demo`` on this application's settings."""
    os.environ["OIDC_ISSUER"] = app.config["oidc.issuer"]
    os.environ["OIDC_DATABASE_URL"] = app.config["oidc.database_url"]
    cli.main(["init", "--demo"])


def main() -> None:
    configure()
    Path("var").mkdir(exist_ok=True)
    prepare_database()
    provider = mount(app)  # the settings from app.config; /oidc/... -> the provider
    port = urlsplit(provider.settings.issuer).port or 80
    print(f"Bottle application on http://127.0.0.1:{port}/", flush=True)
    # Bottle's default server with a thread per connection: a browser's idle connection
    # must not keep a relying party's token request waiting.
    bottle.run(app, host="127.0.0.1", port=port, quiet=True, server_class=ThreadingWSGIServer)


if __name__ == "__main__":
    main()
