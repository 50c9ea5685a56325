"""Email addresses as the provider stores and mails them: one mailbox, nothing more.

An address is what a user signs in with, what the ``email`` claim carries, and where
links are mailed (its ``To:`` header).  A value a mail library would read as several
recipients (``a@x.example,b@y.example``), as a display name with an address
(``Name <a@x.example>``) or as a group is refused everywhere an address is set: the API,
the console, the CLI and the account pages all ask :func:`is_mailbox`.
"""

from __future__ import annotations

from email.utils import parseaddr

from .text import has_control_characters

MAX_EMAIL = 320  # characters: the column's length (RFC 5321 allows 64 + 1 + 255)
# What makes a header hold more than one address, a name, a comment or a quoted part.
_SEPARATORS = frozenset(',;<>"()[]\\:')


def is_mailbox(value: str) -> bool:
    """Whether ``value`` is a single ``local@domain`` address (a dot in the domain, no
    spaces, control characters or separators)."""
    if not value or len(value) > MAX_EMAIL or has_control_characters(value):
        return False
    if any(c.isspace() or c in _SEPARATORS for c in value):
        return False
    local, at, domain = value.rpartition("@")
    if not (local and at) or "@" in local or "." not in domain.strip("."):
        return False
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return False
    return parseaddr(value) == ("", value)
