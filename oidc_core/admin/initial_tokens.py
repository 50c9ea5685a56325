"""Initial access tokens (RFC 7591 section 3): issuing, listing and revoking them.

One implementation behind the CLI (``oidc-core registration-token``), the management API
(``/admin/api/initial-access-tokens``) and the console (``/admin/registration-tokens``).
An administrator hands a token to a server, which registers its client with it at the
registration endpoint within the token's limits: an expiry, a number of uses, and
optionally the scopes, grant types and redirect URI hosts it may register (empty: no
limit).  The value is returned once and stored only as its digest; the audit log records
each issuance and revocation, never the value.  A refused field raises
:class:`InvalidTokenField` naming it, and nothing is stored.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import registration
from ..claims import SUPPORTED_SCOPES
from ..records import InitialAccessToken
from ..storage import Audit, Storage
from ..text import has_control_characters
from ..ui.translations import N_, Message

DAY = 86400
EXPIRES_IN_RANGE = (60, 366 * DAY)
DEFAULT_EXPIRES_IN = DAY
USES_RANGE = (1, 1000)
MAX_ITEMS = 50
FIELDS = ("name", "expires_in", "uses_allowed", "scopes", "grant_types", "redirect_hosts")
_DURATION = re.compile(r"([0-9]{1,9})([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY}
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")

LIVE, EXPIRED, USED_UP, REVOKED = "live", "expired", "used up", "revoked"


class InvalidTokenField(registration.InvalidField):
    """A field of an initial access token request is invalid; ``field`` names it."""


class TokenNotFound(LookupError):
    """No initial access token with this id that is not revoked already."""


@dataclass(frozen=True)
class TokenRequest:
    """What an administrator asked for, checked."""

    name: str
    expires_in: int = DEFAULT_EXPIRES_IN
    uses_allowed: int = 1
    scopes: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    redirect_hosts: tuple[str, ...] = ()


def checked(data: dict[str, Any]) -> TokenRequest:
    """The request in ``data`` (the names of :data:`FIELDS`; absent: the default),
    every field checked; :class:`InvalidTokenField` names the first refused one."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidTokenField(unknown[0][:64], N_("unknown field"))
    if "name" not in data:
        raise InvalidTokenField("name", N_("is required"))
    return TokenRequest(
        name=_name(data["name"]),
        expires_in=_whole(data, "expires_in", DEFAULT_EXPIRES_IN, EXPIRES_IN_RANGE),
        uses_allowed=_whole(data, "uses_allowed", 1, USES_RANGE),
        scopes=_scopes(_strings(data, "scopes")),
        grant_types=_grant_types(_strings(data, "grant_types")),
        redirect_hosts=tuple(
            dict.fromkeys(redirect_host(host) for host in _strings(data, "redirect_hosts"))
        ),
    )


def duration(text: str, field: str = "expires_in") -> int:
    """Seconds from ``3600``, ``3600s``, ``30m``, ``12h`` or ``7d`` (the CLI and console)."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise InvalidTokenField(field, N_("must be a number of seconds, or of m, h or d (e.g. 1d)"))
    return int(found.group(1)) * _UNIT[found.group(2)]


def redirect_host(text: Any) -> str:
    """A host that redirect URIs may have: a DNS name (lowercased) or an IP address (IPv6
    without brackets, compressed: as ``urlsplit(uri).hostname`` gives it); no scheme,
    port, path or wildcard."""
    field = "redirect_hosts"
    if not isinstance(text, str) or not text:
        raise InvalidTokenField(field, N_("each must be a host name or an IP address"))
    host = text.lower()
    if has_control_characters(host) or any(ch.isspace() for ch in host):
        raise InvalidTokenField(field, N_("must not contain spaces or control characters"))
    shown = host[:80]
    if "*" in host:
        raise InvalidTokenField(field, _host(N_("%(host)s: no wildcards, give each host"), shown))
    if "://" in host:
        raise InvalidTokenField(field, _host(N_("%(host)s: a host only, without a scheme"), shown))
    if "/" in host or "?" in host or "#" in host or "@" in host:
        raise InvalidTokenField(field, _host(N_("%(host)s: a host only, without a path"), shown))
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).compressed
    except ValueError:
        pass
    if ":" in host:
        raise InvalidTokenField(field, _host(N_("%(host)s: a host only, without a port"), shown))
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidTokenField(field, _host(N_("%(host)s is not a valid host name"), shown))
    return host


def _host(text: str, shown: str) -> Message:
    """A message about the host ``shown``, quoted (as Python's repr)."""
    return Message(text, {"host": repr(shown)})


def issue(storage: Storage, request: TokenRequest, actor: str) -> tuple[InitialAccessToken, str]:
    """Store a new token for ``request``; returns it with its value (shown once)."""
    details = {
        "name": request.name,
        "expires_in": request.expires_in,
        "uses_allowed": request.uses_allowed,
        "scopes": list(request.scopes),
        "grant_types": list(request.grant_types),
        "redirect_hosts": list(request.redirect_hosts),
    }
    return storage.initial_access_tokens.create(
        request.name,
        int(time.time()) + request.expires_in,
        request.uses_allowed,
        Audit(actor, "initial_access_token.create", details),
        allowed_scopes=request.scopes,
        allowed_grant_types=request.grant_types,
        allowed_redirect_hosts=request.redirect_hosts,
    )


def revoke(storage: Storage, token_id: int, actor: str) -> InitialAccessToken:
    """Revoke the token (it registers nothing more); :class:`TokenNotFound` when there is
    none with this id or it was revoked already."""
    with storage.transaction():
        token = storage.initial_access_tokens.get(token_id)
        audit = Audit(actor, "initial_access_token.revoke", {"name": token.name if token else ""})
        if token is None or not storage.initial_access_tokens.revoke(token_id, audit):
            raise TokenNotFound(token_id)
    return token


def state(token: InitialAccessToken, now: int | None = None) -> str:
    """live, expired, used up or revoked (the first that holds, from the last)."""
    if token.revoked_at is not None:
        return REVOKED
    if token.uses >= token.uses_allowed:
        return USED_UP
    if token.expires_at <= (int(time.time()) if now is None else now):
        return EXPIRED
    return LIVE


def described(token: InitialAccessToken) -> dict[str, Any]:
    """The token as the API and ``--json`` show it: everything but its value."""
    return {
        "id": token.id,
        "name": token.name,
        "state": state(token),
        "created_by": token.created_by,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "uses_allowed": token.uses_allowed,
        "uses": token.uses,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "scopes": [scope for scope in SUPPORTED_SCOPES if scope in token.allowed_scopes],
        "grant_types": [g for g in registration.GRANT_TYPES if g in token.allowed_grant_types],
        "redirect_hosts": list(token.allowed_redirect_hosts),
    }


# -- the fields -------------------------------------------------------------------------------


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidTokenField("name", N_("must be a string"))
    try:
        return registration.check_name(value, "name")
    except registration.InvalidMetadata as error:
        raise InvalidTokenField("name", error.page_message) from None


def _whole(data: dict[str, Any], field: str, default: int, bounds: tuple[int, int]) -> int:
    value = data.get(field, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTokenField(field, N_("must be a whole number"))
    low, high = bounds
    if not low <= value <= high:
        raise InvalidTokenField(
            field, Message(N_("must be between %(low)s and %(high)s"), {"low": low, "high": high})
        )
    return value


def _strings(data: dict[str, Any], field: str) -> list[str]:
    value = data.get(field) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidTokenField(field, N_("must be a list of strings"))
    if len(value) > MAX_ITEMS:
        raise InvalidTokenField(field, Message(N_("at most %(count)s"), {"count": MAX_ITEMS}))
    return value


def _scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Scopes the token may register (OIDC: openid among them); none: no limit."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(SUPPORTED_SCOPES))
    if unknown:
        raise InvalidTokenField(
            "scopes", Message(N_("unsupported scope %(scope)s"), {"scope": repr(unknown[0][:64])})
        )
    if wanted and "openid" not in wanted:
        raise InvalidTokenField("scopes", N_("must include openid"))
    return tuple(scope for scope in SUPPORTED_SCOPES if scope in wanted)


def _grant_types(grants: Iterable[str]) -> tuple[str, ...]:
    """Grant types the token may register (RFC 7591 section 2); none: no limit."""
    wanted = set(grants)
    unknown = sorted(wanted - set(registration.GRANT_TYPES))
    if unknown:
        raise InvalidTokenField(
            "grant_types",
            Message(N_("unsupported grant type %(grant)s"), {"grant": repr(unknown[0][:64])}),
        )
    return tuple(grant for grant in registration.GRANT_TYPES if grant in wanted)
