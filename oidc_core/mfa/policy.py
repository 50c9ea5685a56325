"""Who signs in with a second factor.

A user who has a second factor (a confirmed authenticator app or a passkey) always uses
it: administrators included, so an administrator's factor cannot be skipped.  A user who
has none must enrol one during the sign-in when the client asks for it (``require_mfa``),
when the provider does (setting ``require_mfa``), or, for administrators, when the setting
``require_mfa_for_admins`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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


def must_enrol(
    op: Context, user: User, client: Client | None, params: Sequence[tuple[str, str]] = ()
) -> bool:
    """Whether the policy demands a second factor of ``user`` whether they have one or not
    (a user without one is then led through enrolment)."""
    settings = op.settings
    if settings.require_mfa or (client is not None and client.require_mfa):
        return True
    # The acr work will add here: True when ``params`` ask for the mfa context class
    # (``acr_values``, an essential ``acr`` claim) that a password alone cannot meet.
    return settings.require_mfa_for_admins and op.accounts.is_admin(user)
