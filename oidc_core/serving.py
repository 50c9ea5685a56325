"""What ``oidc-core serve`` tells gunicorn and the provider, so that the two agree.

* The issuer follows the bind on loopback: without ``OIDC_ISSUER``, a server bound to
  ``127.0.0.1:8001`` is ``http://127.0.0.1:8001`` (``https://`` with a certificate).  A
  loopback issuer set elsewhere than the bind is kept, with a warning; any other issuer (a
  public URL behind a proxy) is kept silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .settings import LOOPBACK_HOSTS, Settings


def loopback_origin(bind: str, https: bool) -> str:
    """``scheme://host:port`` of a ``host:port`` bind on a loopback host (gunicorn's port
    8000 when none is given); "" for any other bind (all interfaces, a unix socket)."""
    if ":" not in bind or (bind.startswith("[") and bind.endswith("]")):
        host, port = bind, "8000"
    else:
        host, _, port = bind.rpartition(":")
    if not port.isdigit() or host.strip("[]") not in LOOPBACK_HOSTS:
        return ""
    return f"{'https' if https else 'http'}://{host}:{int(port)}"


def environment(environ: Mapping[str, str], bind: str, https: bool) -> dict[str, str]:
    """The ``OIDC_*`` variables ``serve`` sets when they are not set: the issuer of a
    loopback bind."""
    values = {}
    origin = loopback_origin(bind, https)
    if origin and not environ.get("OIDC_ISSUER"):
        values["OIDC_ISSUER"] = origin
    return values


def issuer_warning(settings: Settings, bind: str, https: bool) -> str:
    """Why the loopback issuer is not where this server listens; "" when it is (or the
    issuer or the bind is not on loopback)."""
    origin = loopback_origin(bind, https)
    if not origin or not settings.is_loopback:
        return ""
    issuer, bound = urlsplit(settings.issuer), urlsplit(origin)
    hosts = {issuer.hostname, bound.hostname}
    if (issuer.scheme, issuer.port) == (bound.scheme, bound.port) and (
        len(hosts) == 1 or "localhost" in hosts
    ):
        return ""
    return (
        f"the issuer {settings.issuer} (OIDC_ISSUER) is not where this server listens "
        f"({origin}): discovery and every redirect will point there"
    )
