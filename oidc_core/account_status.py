"""An account's status, ``active``, ``suspended`` or ``closed``, and what a change ends.

Only an active account signs in and has its codes and tokens honoured.  That is checked
where they are used, not by revoking them: a suspended or closed account's password
sign-in gets the answer of a wrong password (:meth:`.Accounts.authenticate`); no code is
issued for it (``access_denied``, :func:`.complete.issue_code`); the token endpoint refuses
its codes and refresh tokens (``invalid_grant``); and the statement that finds an access
token live joins its account's status, so UserInfo (401 ``invalid_token``), introspection
(``active: false``) and the bearer check refuse it from the next request on, at no extra
query.  A host account's status (its ``oidc_user`` row) counts the same way.

What each change ends at once (a billing system's suspension for non-payment is usually
undone within days; closing is the end of the customer):

* **suspend**: every browser session of the account ends, with back-channel logout to the
  applications it signed in to.  Refresh tokens and consents are kept, refused while the
  account is suspended.
* **activate** (from suspended): the account signs in again, and its refresh tokens that
  have not expired meanwhile work again: an application with offline access resumes
  without asking the customer to sign in anew.  Nothing else comes back (its sessions
  ended).
* **close**: sessions end as for a suspension, and every code, access token and refresh
  token of the account is revoked.  Only an administrator can make a closed account active
  again, and then nothing of it comes back: the user signs in afresh (consents are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .account.links import RESET as RESET_LINK
from .account.sessions import end_every_session
from .records import ACCOUNT_STATUSES, ACTIVE, CLOSED, SUSPENDED, User
from .storage import Audit

if TYPE_CHECKING:
    from .context import Context

# The CLI's words for a change, and the status each one sets.
ACTIONS = {"activate": ACTIVE, "suspend": SUSPENDED, "close": CLOSED}


class UnknownStatus(ValueError):
    """Not one of :data:`~oidc_core.records.ACCOUNT_STATUSES`."""


@dataclass(frozen=True)
class StatusChange:
    changed: bool  # False: the account had this status already, nothing was done
    logout_queued: bool  # back-channel logout tokens wait to be sent


def change_status(
    op: Context, user: User, status: str, actor: str, *, wake: bool = True
) -> StatusChange:
    """Give ``user`` the ``status``, ending what it ends (see the module), in one
    transaction with the audit entry ``user.status`` (from, to) by ``actor``.  Nothing is
    done when the account has this status already.

    ``wake``: start sending the back-channel logout tokens queued, once committed.  A
    caller inside a transaction of its own passes False and wakes the sender after its
    commit when :attr:`StatusChange.logout_queued`; a short-lived process (the CLI) leaves
    them to the servers' senders, which find them within a minute."""
    if status not in ACCOUNT_STATUSES:
        raise UnknownStatus(status)
    audit = Audit(actor, "user.status", {"from": user.status, "to": status})
    queued = False
    with op.storage.transaction():
        if not op.storage.users.set_status(user.id, status, audit):
            return StatusChange(changed=False, logout_queued=False)
        if status in (SUSPENDED, CLOSED):
            queued = end_every_session(op, user.id)
            op.storage.links.end_all(user.id, RESET_LINK)
        if status == CLOSED:
            op.storage.account.revoke(user.id, None)
    if queued and wake:
        op.backchannel.wake()
    return StatusChange(changed=True, logout_queued=queued)
