"""User administration: one implementation behind the management API, the console and the
CLI, as :mod:`.service` is for clients.

An account is named by its ``sub`` or, for a built-in account, its email address (a key
with ``@`` is an email).  Every change is validated whole before anything is written, and
is written with its audit entry (who, what, when; never a password) in one transaction.
Errors are :class:`InvalidUserField` (which field and why) or :class:`UserNotFound`.
A status change goes through :func:`oidc_core.account_status.change_status`, which ends
what it ends (sessions, tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import account_status
from ..account import links
from ..addresses import MAX_EMAIL, is_mailbox
from ..passwords import PasswordTooLong
from ..records import ACCOUNT_STATUSES, User
from ..storage import Audit, DuplicateEmail
from ..text import has_control_characters
from .service import MAX_OFFSET

if TYPE_CHECKING:
    from ..context import Context

MAX_NAME = 255
MIN_PASSWORD = 8  # characters, as on the account pages
CREATE_FIELDS = frozenset(
    {"email", "password", "name", "email_verified", "is_admin", "send_verification"}
)
CHANGE_FIELDS = frozenset({"status", "email_verified", "is_admin"})
FLAGS = ("email_verified", "is_admin")


class UserNotFound(LookupError):
    """There is no user with this ``sub`` or email address."""


class InvalidUserField(ValueError):
    """A field or parameter that cannot be used; nothing was changed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def described(user: User) -> dict[str, Any]:
    """A user as the API shows it: never the password hash."""
    return {
        "sub": user.subject,
        "email": user.email,
        "name": user.name,
        "email_verified": user.email_verified,
        "is_admin": user.is_admin,
        "status": user.status,
        "status_changed_at": user.status_changed_at,
        "updated_at": user.updated_at,
    }


def find(op: Context, key: str) -> User:
    """The user with the ``sub`` or email address ``key``."""
    if not key or len(key) > MAX_EMAIL or has_control_characters(key):
        raise UserNotFound(key)
    user = op.storage.users.by_email(key) if "@" in key else op.storage.users.by_subject(key)
    if user is None:
        raise UserNotFound(key)
    return user


def search(
    op: Context, text: str = "", status: str = "", limit: int = 100, offset: int = 0
) -> list[User]:
    """Users whose email or name contains ``text`` (or whose ``sub`` it is), by email."""
    if not text.isprintable():
        raise InvalidUserField("q", "must not contain control characters")
    if status and status not in ACCOUNT_STATUSES:
        raise InvalidUserField("status", f"must be one of {', '.join(ACCOUNT_STATUSES)}")
    if not 1 <= limit <= 1000:
        raise InvalidUserField("limit", "must be between 1 and 1000")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidUserField("offset", f"must be between 0 and {MAX_OFFSET}")
    return op.storage.users.search(text, status, limit, offset)


def create(op: Context, data: Mapping[str, Any], actor: str) -> User:
    """A new built-in account from ``email`` (required), ``password``, ``name``,
    ``email_verified`` and ``is_admin``.  Without a password nobody can sign in to it with
    one until it is set (by a reset link).  ``send_verification``: mail the address its
    confirmation link (not with ``email_verified``: the administrator vouches instead)."""
    _only(data, CREATE_FIELDS)
    send_verification = data.get("send_verification", False)
    if not isinstance(send_verification, bool):
        raise InvalidUserField("send_verification", "must be true or false")
    if send_verification and data.get("email_verified") is True:
        raise InvalidUserField("send_verification", "not with email_verified true")
    email = _text(data, "email", MAX_EMAIL, required=True).lower()
    if not is_mailbox(email):
        raise InvalidUserField("email", "must be an email address")
    name = _text(data, "name", MAX_NAME)
    flags = _flags(data)
    password = data.get("password")
    password_hash = ""
    if password is not None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidUserField("password", f"must be a string of at least {MIN_PASSWORD}")
        try:
            password_hash = op.passwords.hash(password)
        except PasswordTooLong as exc:
            raise InvalidUserField("password", str(exc)) from None
    audit = Audit(actor, "user.create", {"fields": sorted(data)})
    try:
        user = op.storage.users.create(
            email,
            password_hash,
            name=name,
            email_verified=flags.get("email_verified", False),
            is_admin=flags.get("is_admin", False),
            audit=audit,
        )
    except DuplicateEmail:
        raise InvalidUserField("email", "another user has this email address") from None
    if send_verification:
        links.send_verification(op, user)
    return user


def change(op: Context, key: str, data: Mapping[str, Any], actor: str) -> User:
    """Change ``status`` and/or the flags ``email_verified``, ``is_admin`` of the user
    ``key``; everything validated first.  The same status again changes nothing."""
    _only(data, CHANGE_FIELDS)
    if not data:
        raise InvalidUserField("status", "nothing to change: give status or a flag")
    status = data.get("status")
    if "status" in data and status not in ACCOUNT_STATUSES:
        raise InvalidUserField("status", f"must be one of {', '.join(ACCOUNT_STATUSES)}")
    flags = _flags(data)
    user = find(op, key)
    queued = False
    with op.storage.transaction():
        if flags:
            audit = Audit(actor, "user.update", {"fields": sorted(flags)})
            op.storage.users.set_flags(user.id, flags, audit)
        if "status" in data:
            change = account_status.change_status(op, user, str(status), actor, wake=False)
            queued = change.logout_queued
    if queued:  # committed: the logout tokens can go
        op.backchannel.wake()
    return find(op, user.subject)


def _only(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in data:
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise InvalidUserField(str(name)[:64], f"unknown field; use {known}")


def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise InvalidUserField(name, "must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidUserField(name, "is required")
    if len(value) > limit:
        raise InvalidUserField(name, f"at most {limit} characters")
    if has_control_characters(value):
        raise InvalidUserField(name, "must not contain control characters")
    return value


def _flags(data: Mapping[str, Any]) -> dict[str, bool]:
    flags = {name: data[name] for name in FLAGS if name in data}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise InvalidUserField(name, "must be true or false")
    return flags
