"""Request ids and log formatting: every log record emitted while a request is handled
carries that request's id.

``REQUEST_ID`` holds the id of the request in hand (a :mod:`contextvars` variable, so each
thread or task has its own); :class:`RequestIdFilter` copies it onto records as
``record.request_id``.  :func:`configure` sets up the root logger for the standalone server
(``oidc-core serve``); applications that mount the provider call it themselves, or add the
filter and, for JSON lines, :class:`JsonFormatter` to their own handlers
(``docs/deployment.md``).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .text import ASCII_CONTROL

if TYPE_CHECKING:
    from webob import Request

REQUEST_ID: ContextVar[str] = ContextVar("oidc_request_id", default="")
REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Extra fields of the access log line, copied into JSON lines when a record has them.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "client")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers that write secrets below INFO: oauthlib logs codes and tokens in clear at DEBUG.
QUIET_LOGGERS = ("oauthlib",)
access_log = logging.getLogger("oidc_core.access")


def request_id_for(incoming: str | None) -> str:
    """The incoming ``X-Request-Id`` when it is short and safe, else a new random id."""
    if incoming and _SAFE_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (``-`` outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id (and the access
    line's fields); an exception's traceback goes in ``exc_info``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), default=str)


def _request_id(record: logging.LogRecord) -> str | None:
    """The record's request id (None outside a request: JSON null rather than "-")."""
    found = getattr(record, "request_id", "") or REQUEST_ID.get()
    return found if found and found != "-" else None


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of a ``log_format`` setting: ``text`` or ``json``."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(log_format: str = "text", level: int = logging.INFO) -> logging.Handler:
    """Log to standard error in ``log_format``, request ids included, replacing the root
    logger's handlers; keeps oauthlib at INFO or above whatever ``level`` is."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet()
    return handler


def quiet() -> None:
    """Never below INFO for the loggers that write secrets at DEBUG."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET too: it would follow the root's level
            logger.setLevel(logging.INFO)


def log_access(
    request: Request, status: int, elapsed: float, client_address: Callable[[Request], str]
) -> None:
    """The access line of one request: never the query string (it may carry codes and
    tokens); control characters of the decoded path escaped."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    try:
        # A decoded path may hold a line break (%0A): escaped, it cannot forge a log line.
        path = ASCII_CONTROL.sub(_escaped, request.script_name + request.path_info)
    except UnicodeDecodeError:
        path = "(not UTF-8)"
    method, client = request.method, client_address(request) or "-"
    duration_ms = round(elapsed * 1000, 1)
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "client": client,
    }
    # Made and handled as Logger.info would, minus its walk up the stack for the caller's
    # file and line (a sixth of the line's cost): the access line always comes from here.
    record = access_log.makeRecord(
        access_log.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %d %.1fms %s",
        (method, path, status, duration_ms, client),
        None,
        "log_access",
        fields,
    )
    access_log.handle(record)


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"
