"""Thin adapters that mount :class:`oidc_core.Provider` (installed as ``oidc_adapters``).

* :mod:`oidc_adapters.wsgi`: ``OIDCMiddleware(app, provider)`` for any WSGI application;
* :mod:`oidc_adapters.pyramid`: ``config.include("oidc_adapters.pyramid")``;
* :mod:`oidc_adapters.bottle`: ``mount(app)``;
* :mod:`oidc_adapters.standalone`: ``gunicorn 'oidc_adapters.standalone:create_app()'``;
* :mod:`oidc_adapters.devserver`: ``serve(app, host, port)``, wsgiref with a thread per
  connection, for the examples and development.

Every adapter mounts the provider at the path of its issuer (``https://host/oidc`` ->
``/oidc``) and hands it requests with the prefix in ``SCRIPT_NAME`` and the rest in
``PATH_INFO``.  The two functions below are the only mount logic, shared by all of them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from oidc_core import Settings

_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def mount_prefix(settings: Settings, prefix: str | None = None) -> str:
    """The path to mount the provider at: the issuer's path, or ``prefix`` checked against it.

    A host application that is itself mounted (its own ``SCRIPT_NAME``) gives the part of
    the issuer's path below its own root, so ``prefix`` may be a tail of the issuer's path.
    """
    issuer_path = urlsplit(settings.issuer).path
    wanted = issuer_path if prefix is None else prefix.rstrip("/")
    if not _PREFIX.fullmatch(wanted):
        if not issuer_path:
            raise ValueError(
                f"the issuer {settings.issuer} has no path to mount the provider at: "
                "give it one (for example https://host.example/oidc)"
            )
        if not wanted:
            raise ValueError(f"mount prefix {prefix!r}: the provider cannot take over '/'")
        raise ValueError(
            f"mount prefix {wanted!r}: must be /segment[/segment...] of letters, digits, "
            "'-', '.', '_' or '~'"
        )
    if issuer_path != wanted and not issuer_path.endswith(wanted):
        raise ValueError(
            f"mount prefix {wanted!r} disagrees with the issuer {settings.issuer}: "
            f"mount the provider at {issuer_path or '/'} (or a tail of it), or change the issuer"
        )
    return wanted


def provider_environ(environ: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    """The environ the provider sees for a request under ``prefix``; None outside it.

    ``prefix`` moves from ``PATH_INFO`` to the end of ``SCRIPT_NAME``; ``/oidcx`` is not
    under ``/oidc``.  The host's environ is copied, never changed.
    """
    path = environ.get("PATH_INFO", "")
    if path != prefix and not path.startswith(prefix + "/"):
        return None
    inner = dict(environ)
    inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
    inner["PATH_INFO"] = path[len(prefix) :]
    return inner
