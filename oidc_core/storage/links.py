"""Links sent by email (``oidc_account_link``): password reset and address verification.

A link is stored as the SHA-256 digest of its token, never the token.  Each account has at
most one live link per purpose: issuing one deletes the older ones.  A link is used once:
:meth:`AccountLinkStore.use` marks it in one ``UPDATE ... WHERE used_at IS NULL``, so of
two requests using it at once only the one whose update changed the row gets it.
"""

from __future__ import annotations

import time

from .. import records
from . import convert, models
from .db import database_proxy, write_transaction

Row = models.AccountLink


class AccountLinkStore:
    def issue(
        self, user_id: int, purpose: str, token_digest: str, ttl: int, email: str = ""
    ) -> None:
        """Keep a new link for ``ttl`` seconds; the account's older ones of this purpose end."""
        now = int(time.time())
        with write_transaction(database_proxy):
            Row.delete().where((Row.user == user_id) & (Row.purpose == purpose)).execute()
            Row.create(
                token_digest=token_digest,
                user=user_id,
                purpose=purpose,
                email=email,
                created_at=now,
                expires_at=now + ttl,
            )

    def forget(self, token_digest: str) -> None:
        """Delete a link (a no-op for a digest nobody has: the same work as :meth:`issue`
        does first, for an answer that must not tell whether an account exists)."""
        with write_transaction(database_proxy):
            Row.delete().where(Row.token_digest == token_digest).execute()

    def end_all(self, user_id: int, purpose: str) -> int:
        """End every link of the account for ``purpose`` (a password reset's links once
        the password changed another way, or the account was suspended); how many."""
        with write_transaction(database_proxy):
            query = Row.delete().where((Row.user == user_id) & (Row.purpose == purpose))
            return int(query.execute())

    def find(self, token_digest: str, purpose: str) -> records.AccountLink | None:
        """The live link (unused, unexpired) with this digest and purpose, or None."""
        row = Row.get_or_none(
            (Row.token_digest == token_digest)
            & (Row.purpose == purpose)
            & Row.used_at.is_null()
            & (Row.expires_at > int(time.time()))
        )
        return convert.account_link(row) if row else None

    def use(self, token_digest: str, purpose: str) -> records.AccountLink | None:
        """Mark the live link used and return it; None if it is not live (any more).  Run
        it in the transaction of what the link does: a rollback gives the link back."""
        found = self.find(token_digest, purpose)
        if found is None:
            return None
        changed = (
            Row.update(used_at=int(time.time()))
            .where((Row.id == found.id) & Row.used_at.is_null())
            .execute()
        )
        return found if changed else None
