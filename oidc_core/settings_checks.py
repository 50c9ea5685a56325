"""The rules of :class:`oidc_core.settings.Settings`: each value checked at start-up, and a
configured string read as the type of its setting.

Every error is a :class:`ConfigurationError` whose message starts with the setting's name
(``Settings.from_mapping`` and ``Settings.from_env`` put the key or the variable there).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .claims import EDITABLE_CLAIMS
from .netloc import LOOPBACK_HOSTS
from .outbound import check_proxy
from .text import ASCII_CONTROL
from .ui.colours import HEX_COLOUR

log = logging.getLogger("oidc_core.settings")  # the issuer's messages, as before the split


class ConfigurationError(ValueError):
    """A setting has an invalid value; the message names the key."""


def check(settings: Mapping[str, Any]) -> None:
    """Every rule a whole :class:`Settings` must follow (its fields by name); the first broken
    one raises."""
    check_issuer(settings["issuer"])
    for name in (
        "code_ttl",
        "access_token_ttl",
        "id_token_ttl",
        "refresh_token_idle_ttl",
        "refresh_token_absolute_ttl",
        "session_ttl",
        "interaction_ttl",
        "password_time_cost",
        "password_memory_cost",
        "password_parallelism",
        "password_max_length",
        "password_hash_concurrency",
        "max_body_bytes",
        "max_param_length",
        "max_header_bytes",
        "max_url_length",
        "database_statement_timeout_ms",
        "login_lock_threshold",
        "login_pair_lock_threshold",
        "login_ip_lock_threshold",
        "login_lock_seconds",
        "login_lock_max_seconds",
        "login_failure_window",
        "second_factor_ttl",
    ):
        if settings[name] <= 0:
            raise ConfigurationError(f"{name}: must be a positive integer")
    fixed = [name for name in settings["profile_editable_claims"] if name not in EDITABLE_CLAIMS]
    if fixed:
        raise ConfigurationError(
            f"profile_editable_claims: {', '.join(fixed)} cannot be edited "
            f"(only {', '.join(EDITABLE_CLAIMS)})"
        )
    if settings["consent_ttl"] < 0:
        raise ConfigurationError("consent_ttl: must not be negative")
    if settings["login_lock_max_seconds"] < settings["login_lock_seconds"]:
        raise ConfigurationError("login_lock_max_seconds: must be at least login_lock_seconds")
    if settings["key_cache_seconds"] < 0:
        raise ConfigurationError("key_cache_seconds: must not be negative")
    if settings["key_rotation_days"] < 0:
        raise ConfigurationError("key_rotation_days: must not be negative")
    for proxy in settings["trusted_proxies"]:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigurationError(
                f"trusted_proxies: {proxy!r} is not an IP address or network"
            ) from None
    host_login_url = settings["host_login_url"]
    if host_login_url and not (
        host_login_url.startswith(("https://", "http://"))
        or (host_login_url.startswith("/") and not host_login_url.startswith("//"))
    ):
        raise ConfigurationError("host_login_url: must be an absolute URL or a path")
    allow_private = settings["backchannel_allow_private_addresses"]
    if not (allow_private is None or isinstance(allow_private, bool)):
        raise ConfigurationError("backchannel_allow_private_addresses: must be auto or a boolean")
    if settings["backchannel_proxy"]:
        try:
            check_proxy(settings["backchannel_proxy"])
        except ValueError as exc:
            raise ConfigurationError(f"backchannel_proxy: {exc}") from None
    check_mail(settings)
    check_brand(settings)
    if settings["log_format"] not in ("text", "json"):
        raise ConfigurationError("log_format: must be text or json")
    schemes = {
        "sqlite",
        "postgresql",
        "postgres",
        "postgresql+pool",
        "postgres+pool",
        "mysql",
        "mysql+pool",
    }
    if settings["database_url"].split(":", 1)[0] not in schemes:
        raise ConfigurationError(
            "database_url: scheme must be sqlite://, postgresql://, postgresql+pool://, "
            "mysql:// or mysql+pool://"
        )


def check_mail(settings: Mapping[str, Any]) -> None:
    """The SMTP settings: a known protection, a port, a timeout; plain text only to loopback."""
    if settings["smtp_security"] not in ("starttls", "ssl", "none"):
        raise ConfigurationError("smtp_security: must be starttls, ssl or none")
    if not 0 < settings["smtp_port"] < 65536:
        raise ConfigurationError("smtp_port: must be a port number (1 to 65535)")
    if settings["smtp_timeout"] <= 0:
        raise ConfigurationError("smtp_timeout: must be a positive integer")
    host = settings["smtp_host"].strip("[]")
    if host and settings["smtp_security"] == "none" and host not in LOOPBACK_HOSTS:
        raise ConfigurationError(
            "smtp_security: none (plain text) is allowed only to a loopback host; "
            "use starttls or ssl"
        )
    if ASCII_CONTROL.search(settings["mail_from"]):
        raise ConfigurationError("mail_from: must not contain control characters")


def check_brand(settings: Mapping[str, Any]) -> None:
    """The brand settings: a ``#rrggbb`` colour, web addresses the pages may link to, a
    directory of templates (the image files are read by :mod:`oidc_core.ui.brand`)."""
    loopback = (urlsplit(settings["issuer"]).hostname or "") in LOOPBACK_HOSTS
    colour = settings["brand_accent_colour"]
    if colour and not HEX_COLOUR.fullmatch(colour):
        raise ConfigurationError("brand_accent_colour: must be a colour as #rrggbb")
    if ASCII_CONTROL.search(settings["brand_name"]):
        raise ConfigurationError("brand_name: must not contain control characters")
    for name in ("brand_logo", "brand_favicon"):
        value = settings[name]
        if ASCII_CONTROL.search(value):
            raise ConfigurationError(f"{name}: must not contain control characters")
        if ":" in value.split("/", 1)[0] and not value.startswith("https://"):
            raise ConfigurationError(f"{name}: must be an https:// URL or a file")
        if value.startswith("https://"):
            check_web_address(name, value, loopback=False)
    for name in ("op_policy_uri", "op_tos_uri", "service_documentation"):
        if settings[name]:
            check_web_address(name, settings[name], loopback=loopback)
    support = settings["support_url"]
    if support.startswith("mailto:"):
        if "@" not in support or ASCII_CONTROL.search(support) or " " in support:
            raise ConfigurationError("support_url: must be a mailto: address or an https:// URL")
    elif support:
        check_web_address("support_url", support, loopback=loopback)
    directory = settings["templates_dir"]
    if directory and not Path(directory).is_dir():
        raise ConfigurationError(f"templates_dir: {directory} is not a directory")


def check_web_address(name: str, value: str, *, loopback: bool) -> None:
    """An absolute ``https://`` URL (``http://`` on a loopback host when the issuer is one:
    development) without user information; ConfigurationError naming ``name`` otherwise."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigurationError(f"{name}: {value!r} is not a valid URL") from None
    if ASCII_CONTROL.search(value) or any(ch.isspace() for ch in value) or not parts.hostname:
        raise ConfigurationError(f"{name}: {value!r} is not a valid URL")
    if "@" in parts.netloc:  # every visitor would read it (and discovery publishes some)
        raise ConfigurationError(f"{name}: must not contain user information")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and loopback and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ConfigurationError(
        f"{name}: must be an https:// URL"
        + (" (or http:// on a loopback host)" if loopback else "")
    )


def coerce(key: str, raw: Any, default: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    if default is None:  # a boolean whose default the provider decides
        return None if raw.strip().lower() == "auto" else coerce(key, raw, False)
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigurationError(f"{key}: expected a boolean, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw.strip())
        except ValueError:
            raise ConfigurationError(f"{key}: expected an integer, got {raw!r}") from None
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.replace("\n", ",").split(",") if part.strip())
    return raw.strip()


def check_issuer(issuer: str) -> None:
    """OpenID Connect Discovery 1.0 section 2 / RFC 8414 section 2: https, no query/fragment."""
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigurationError(f"issuer: {issuer!r} is not a valid URL") from None
    if ASCII_CONTROL.search(issuer) or any(ch.isspace() for ch in issuer):
        raise ConfigurationError("issuer: must not contain whitespace or control characters")
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigurationError("issuer: must be an absolute https:// URL")
    if "?" in issuer or "#" in issuer or "@" in parts.netloc:
        raise ConfigurationError("issuer: must have no query, fragment or user information")
    if issuer.endswith("/"):
        raise ConfigurationError("issuer: must not end with a slash")
    if parts.scheme == "http":
        if parts.hostname not in LOOPBACK_HOSTS:
            raise ConfigurationError(
                "issuer: http:// is allowed only on loopback (127.0.0.1, localhost, [::1]); "
                "use https:// in production"
            )
        # INFO: a valid development set-up, checked in every process (each gunicorn worker).
        log.info("issuer %s is plain http: acceptable for loopback development only", issuer)
