"""Standalone deployment: ``gunicorn 'oidc_adapters.standalone:create_app()'``.

Configuration comes from ``OIDC_*`` environment variables (see ``docs/configuration.md``).
The database must have been initialised with ``oidc-core init``.
"""

from __future__ import annotations

import logging

from oidc_core import Provider, Settings


def create_app() -> Provider:
    """Build the provider from the environment; refuse to start on an old schema."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # oauthlib logs authorization codes and tokens in clear at DEBUG: never below INFO.
    logging.getLogger("oauthlib").setLevel(logging.INFO)
    provider = Provider(Settings.from_env())
    if not provider.storage.schema_is_current():
        raise SystemExit("the database schema is missing or old: run `oidc-core init` first")
    provider.storage.close()  # each worker opens its own connection on first use
    return provider
