"""What a management API token may do: its scopes.

``admin`` is everything (every token made before 0.6.0 has it); the others each open one
part of the management API, so a server's provisioning script can hold a token that only
manages clients, and a scraper one that only reads metrics.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

ADMIN = "admin"
CLIENTS_READ = "clients:read"
CLIENTS_WRITE = "clients:write"
AUDIT_READ = "audit:read"
METRICS_READ = "metrics:read"
SCOPES = (ADMIN, CLIENTS_READ, CLIENTS_WRITE, AUDIT_READ, METRICS_READ)
# a token that may change clients may read them too
IMPLIED = {CLIENTS_WRITE: frozenset({CLIENTS_READ})}


class UnknownScope(ValueError):
    """Not one of :data:`SCOPES`."""


def checked(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, known, without repeats, in :data:`SCOPES` order; at least one."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise UnknownScope(f"unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}")
    if not wanted:
        raise UnknownScope(f"give at least one scope: {', '.join(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in wanted)


def allows(token_scopes: Collection[str], needed: str) -> bool:
    """Whether a token with ``token_scopes`` may do what needs ``needed``."""
    if ADMIN in token_scopes or needed in token_scopes:
        return True
    return any(needed in IMPLIED.get(scope, ()) for scope in token_scopes)
