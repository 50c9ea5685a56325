"""Storage: the only package that imports peewee.

:class:`Storage` opens the database from a URL and exposes one small store per concern.
Every method takes and returns plain values or :mod:`oidc_core.records`; a database failure
surfaces as :class:`StorageError` so callers never need to know peewee.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import peewee
from playhouse.pool import MaxConnectionsExceeded

from ..records import ClientFields
from . import purge, schema
from .account import AccountStore, RevocationRace
from .admin import AdminTokenStore, AuditLog
from .backchannel import DeliveryStore
from .clients import Audit, ClientIdTaken, ClientStore
from .db import database_proxy, is_pooled, open_database, write_transaction
from .factors import Enrolled, FactorStore, TotpSecret
from .grants import GrantStore, NewCode, NewRefresh
from .hotpath import HotPath
from .keys import KeyStore
from .links import AccountLinkStore
from .one_time import OneTimeValueStore
from .passkeys import PasskeyStore
from .registration import (
    InitialAccessTokenStore,
    ProviderSecrets,
    RegistrationTokenStore,
    TokenSpent,
)
from .schema import SchemaNotCurrent, SchemaTooNew
from .sessions import SessionStore
from .throttle import ThrottleStore
from .users import DuplicateEmail, UserStore

StorageError: tuple[type[BaseException], ...] = (
    peewee.OperationalError,
    peewee.InterfaceError,
    peewee.InternalError,
    MaxConnectionsExceeded,  # every pooled connection busy for the whole wait
)


class Storage:
    """The provider's database and its stores."""

    def __init__(
        self, url: str, echo: bool = False, statement_timeout_ms: int | None = None
    ) -> None:
        """``statement_timeout_ms``: see :func:`.db.open_database` (None: no bound)."""
        self.url = url
        self.database = open_database(url, echo=echo, statement_timeout_ms=statement_timeout_ms)
        database_proxy.initialize(self.database)
        self._hot = hot = HotPath(self.database)
        self.users = UserStore(hot)
        self.clients = ClientStore(hot)
        self.sessions = SessionStore(hot)
        self.grants = GrantStore(hot)
        self.keys = KeyStore()
        self.audit = AuditLog()
        self.admin_tokens = AdminTokenStore()
        self.deliveries = DeliveryStore()
        self.throttle = ThrottleStore(hot)
        self.account = AccountStore(hot)
        self.one_time = OneTimeValueStore()
        self.passkeys = PasskeyStore()
        self.links = AccountLinkStore()
        self.factors = FactorStore(hot)
        self.initial_access_tokens = InitialAccessTokenStore()
        self.registration_tokens = RegistrationTokenStore()
        self.provider_secrets = ProviderSecrets()

    def upgrade(self) -> tuple[int, int]:
        """Create or upgrade the schema; returns (version before, version after)."""
        return schema.upgrade(self.database)

    def schema_version(self) -> int:
        """The database's schema version (0: none yet)."""
        return schema.current_version(self.database)

    def check_schema(self) -> None:
        """Raise :class:`SchemaNotCurrent` (saying what to do) unless the schema is the
        newest; StorageError when the database cannot be asked."""
        schema.check(self.database)

    def schema_problem(self) -> str | None:
        """Why the provider cannot run on this database: no schema, an older one (run
        ``oidc-core migrate``) or a newer one; None when the schema is the newest."""
        return schema.problem(self.database)

    def purge(
        self, *, grace: int, failure_window: int, batch_size: int = 1000, dry_run: bool = False
    ) -> dict[str, int]:
        """Delete the rows past their retention (:mod:`.purge`); how many per table."""
        return purge.purge(
            grace=grace, failure_window=failure_window, batch_size=batch_size, dry_run=dry_run
        )

    def ping(self) -> None:
        """A cheap round trip to the database (``SELECT 1``); raises StorageError."""
        self.database.execute_sql(self._hot.ping).fetchone()

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction around several store calls: all of them or none.  The
        stores' own transactions inside it join it (as savepoints)."""
        return write_transaction(self.database)

    def connect(self) -> None:
        self.database.connect(reuse_if_open=True)

    def release(self) -> None:
        """End of a request: roll back anything left open.  The thread keeps its connection
        for its next request; with a pool (``postgresql+pool://``) it goes back to the pool,
        where any thread can take it."""
        if self.database.in_transaction():
            self.database.rollback()
        if is_pooled(self.database) and not self.database.is_closed():
            self.database.close()

    def drop_after_failure(self) -> None:
        """After a failure caught outside a request's error handling: close the connection
        (it may be broken), unless a transaction is open on it, which its owner ends."""
        if not self.database.in_transaction():
            self.close()

    def disconnect(self) -> None:
        """Close this thread's connection, and a pool's idle connections: none is left for
        the processes forked afterwards to share."""
        self.close()
        if is_pooled(self.database):
            self.database.close_idle()

    def close(self) -> None:
        """Close this thread's connection, whatever state it is in."""
        if self.database.is_closed():
            return
        try:
            if self.database.in_transaction():
                self.database.rollback()
        except StorageError:
            pass  # the connection is already broken; closing it is all that is left
        finally:
            self.database.close()


__all__ = [
    "Audit",
    "ClientFields",
    "ClientIdTaken",
    "DuplicateEmail",
    "Enrolled",
    "NewCode",
    "NewRefresh",
    "RevocationRace",
    "SchemaNotCurrent",
    "SchemaTooNew",
    "Storage",
    "StorageError",
    "TokenSpent",
    "TotpSecret",
]
