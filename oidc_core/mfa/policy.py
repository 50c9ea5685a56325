"""Who signs in with a second factor.

A user who has a second factor (a confirmed authenticator app or a passkey) always uses
it: administrators included, so an administrator's factor cannot be skipped.  A user who
has none must enrol one during the sign-in when the client asks for it (``require_mfa``),
when the provider does (setting ``require_mfa``), or, for administrators, when the setting
``require_mfa_for_admins`` does, and when the relying party asks for a context class
(``acr``) that a password alone does not reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .. import authn
from ..interactions import acr
from ..records import Client, User
from ..storage import Enrolled

if TYPE_CHECKING:
    from ..context import Context


def second_factor_required(
    op: Context,
    user: User,
    client: Client | None,
    params: Sequence[tuple[str, str]] = (),
    enrolled: Enrolled | None = None,
) -> bool:
    """Whether ``user``'s sign-in (for ``client``, None on the account pages and the
    console; ``params``: the authorization request's) needs a second factor after the
    password.  ``enrolled``: the user's factors, if already read."""
    if enrolled is None:
        enrolled = op.storage.factors.enrolled(user.id)
    return enrolled.any or must_enrol(op, user, client, params)


def short_of_policy(
    op: Context,
    user: User,
    client: Client | None,
    params: Sequence[tuple[str, str]],
    amr: Iterable[str],
) -> bool:
    """Whether a sign-in of ``user`` made with ``amr`` (a live session's, or the host's)
    falls short of this policy: a second factor is required and ``amr`` has none.  The
    policy holds for sessions made before it changed, or before the user enrolled a
    factor elsewhere, not only for the sign-in that :func:`second_factor_required` starts.
    An ``amr`` with a second factor costs nothing; else at most one query (the user's
    factors).

    With host login the host signs its users in and factors enrolled here are never
    asked: only the policy (``require_mfa``, ``require_mfa_for_admins``) counts."""
    if set(amr) & authn.SECOND_FACTORS:
        return False
    if must_enrol(op, user, client, params):  # settings first: no query when they decide
        return True
    return enrols_here(op) and op.storage.factors.enrolled(user.id).any


def enrols_here(op: Context) -> bool:
    """Whether users enrol (and are asked) their second factors here: not with host login,
    where the host application signs its users in and manages their factors."""
    return op.accounts.host_login is None


def must_enrol(
    op: Context, user: User, client: Client | None, params: Sequence[tuple[str, str]] = ()
) -> bool:
    """Whether the policy demands a second factor of ``user`` whether they have one or not
    (a user without one is then led through enrolment)."""
    settings = op.settings
    if settings.require_mfa or (client is not None and client.require_mfa):
        return True
    if _asks_more_than_a_password(params):
        return True
    return settings.require_mfa_for_admins and op.accounts.is_admin(user)


def _asks_more_than_a_password(params: Sequence[tuple[str, str]]) -> bool:
    """Whether the authorization request asks (``acr_values``, or the ``claims``
    parameter's ``acr``, voluntary or essential) for a context class that a password
    alone does not reach: an RP that asks for two factors gets them, the user without one
    being led through enrolment."""
    wanted = acr.required_acr(params)
    return wanted is not None and not authn.satisfies((authn.KNOWLEDGE,), wanted)
