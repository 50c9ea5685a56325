"""What ``oidc-core serve`` tells gunicorn and the provider, so that the two agree.

* The issuer follows the bind on loopback: without ``OIDC_ISSUER``, a server bound to
  ``127.0.0.1:8001`` is ``http://127.0.0.1:8001`` (``https://`` with a certificate).  A
  loopback issuer set elsewhere than the bind is kept, with a warning; any other issuer (a
  public URL behind a proxy) is kept silently.
* gunicorn reads request lines of at most 8190 bytes: its ``limit_request_line`` is cut to
  that, and 0 (unlimited) lets a client hold a worker for its whole timeout with one long
  line (a 10 MB line took 22 s of a worker's CPU).  So gunicorn reads every line up to its
  maximum, the request target under ``serve`` is at most :data:`MAX_URL_LENGTH` (the
  default of ``max_url_length`` there; a larger one is refused), and the provider's own 414
  answers a longer target as long as gunicorn can read the line.
* gunicorn's ``limit_request_field_size`` (8190 by default) is raised to
  ``max_header_bytes``: one header as large as all of them may be is the provider's to
  judge (431 in its own format).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .netloc import LOOPBACK_HOSTS
from .settings import ConfigurationError, Settings

# gunicorn.http.message.MAX_REQUEST_LINE: a larger limit_request_line is cut to it.
GUNICORN_MAX_REQUEST_LINE = 8190
# The longest target in such a line: less the longest method the provider answers, the "?"
# before the query (the provider counts path and query only) and the HTTP version.
MAX_URL_LENGTH = GUNICORN_MAX_REQUEST_LINE - len("OPTIONS ? HTTP/1.1")
# gunicorn counts a header field as "Name: value" and its CRLF; the provider name and value.
HEADER_FIELD_FRAMING = len(": \r\n")


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
    loopback bind, and the longest request target gunicorn can read."""
    values = {}
    origin = loopback_origin(bind, https)
    if origin and not environ.get("OIDC_ISSUER"):
        values["OIDC_ISSUER"] = origin
    if not environ.get("OIDC_MAX_URL_LENGTH"):
        values["OIDC_MAX_URL_LENGTH"] = str(MAX_URL_LENGTH)
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


def gunicorn_limits(settings: Settings) -> list[str]:
    """gunicorn's request limits for these settings; a ``max_url_length`` gunicorn cannot
    read is a :class:`ConfigurationError`."""
    if settings.max_url_length > MAX_URL_LENGTH:
        raise ConfigurationError(
            f"OIDC_MAX_URL_LENGTH: at most {MAX_URL_LENGTH} under oidc-core serve (gunicorn "
            f"reads request lines of at most {GUNICORN_MAX_REQUEST_LINE} bytes)"
        )
    return [
        "--limit-request-line",
        str(GUNICORN_MAX_REQUEST_LINE),
        "--limit-request-field_size",
        str(settings.max_header_bytes + HEADER_FIELD_FRAMING),
    ]
