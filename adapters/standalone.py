"""Standalone deployment: ``gunicorn 'oidc_adapters.standalone:create_app()'``.

Configuration comes from ``OIDC_*`` environment variables (see ``docs/configuration.md``).
The database must have been initialised with ``oidc-core init`` and upgraded
with ``oidc-core migrate`` after each upgrade of oidc-core.

Under a prefix (an issuer like ``https://host.example/oidc``), either let the proxy strip the
prefix, or start gunicorn with ``SCRIPT_NAME=/oidc`` in its environment: gunicorn then moves
the prefix from the path to ``SCRIPT_NAME``.  A ``SCRIPT_NAME`` that disagrees with the
issuer's path stops the start.
"""

from __future__ import annotations

import os

from oidc_core import ConfigurationError, Provider, SchemaNotCurrent, Settings
from oidc_core import logging as request_logs

from . import mount_prefix


def create_app() -> Provider:
    """Build the provider from the environment; refuse to start on a database without the
    current schema.  An unreachable database does not stop the start: the workers answer
    503 until it is back (``/health/ready`` says why), and check its schema then."""
    settings = Settings.from_env()
    # Request ids on every line; oauthlib (codes and tokens at DEBUG) never below INFO.
    request_logs.configure(settings.log_format)
    script_name = os.environ.get("SCRIPT_NAME", "")
    if script_name:
        try:
            mount_prefix(settings, script_name)
        except ValueError as exc:
            raise SystemExit(f"SCRIPT_NAME: {exc}") from None
    try:
        provider = Provider(settings)  # closes the connection it checked the schema with
    except SchemaNotCurrent as exc:
        raise SystemExit(str(exc)) from None
    except ConfigurationError as exc:  # a brand file or colour: one line, no traceback
        raise SystemExit(f"configuration error: {exc}") from None
    return provider
