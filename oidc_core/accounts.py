"""Who can sign in: the account source, and the host's own signed-in user.

An :class:`AccountSource` finds people by their stable key or by what they sign in with,
checks passwords and gives their claims.  The default, :class:`DatabaseAccounts`, is the
provider's own ``oidc_user`` table; a host application plugs in its own user table by
passing another source to ``Provider(settings, accounts=...)`` (``docs/hosting.md``).

Whatever the source, each person gets one row in ``oidc_user``: it holds the ``sub`` the
provider issues (random, never reused, never derived from the host's key) and is what
codes, tokens, consents and sessions refer to.  For a host account the row holds only the
host's key (``external_id``); everything else is asked of the host when needed.

A host that already knows who is signed in (its own session) passes ``host_login``: a
callable given the request that returns that person's :class:`Account` or None.

Only an *active* account (``oidc_user.status``, :mod:`oidc_core.account_status`) signs in
and gets codes and tokens: :meth:`Accounts.authenticate` refuses a suspended or closed one
like a wrong password, and :meth:`Accounts.may_use` (asked before any code is issued and
at every refresh) refuses it too.  A host may add its own rule per client, ``client_access``:
a callable given the :class:`Account` and the client's :class:`PublicClient` that answers
whether this person may use this application (False: ``access_denied``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from webob import Request

from . import authn
from .claims import released, user_claims
from .passwords import PasswordService, PasswordTooLong
from .records import ACTIVE, Client, User
from .storage import Storage
from .subjects import SubjectPolicy, subject_for
from .throttle import Throttle

MAX_LOGIN_LENGTH = 320


@dataclass(frozen=True)
class Account:
    """A person as an account source describes them.

    ``id`` is the source's own key for the person: stable, and never given to anyone else
    (a deleted account's key must not come back).  ``login`` is what they sign in with.
    ``claims`` are OpenID Connect standard claims (``name``, ``email``, ``email_verified``,
    ``locale``, ...); the provider releases only those of the granted scopes.

    A host login (``host_login``) may say how and when the person signed in to the host:
    ``amr``, RFC 8176 method values of :data:`oidc_core.authn.METHODS` (a password by
    default), and ``auth_time``, seconds since the epoch (None: not known; then the
    moment the provider first sees them signed in counts).
    """

    id: str
    login: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    is_admin: bool = False
    amr: tuple[str, ...] = (authn.KNOWLEDGE,)
    auth_time: int | None = None

    def __post_init__(self) -> None:
        unknown = set(self.amr) - authn.METHODS
        if isinstance(self.amr, str) or not self.amr or unknown:
            raise ValueError(f"Account.amr must be a tuple of {sorted(authn.METHODS)}")
        if self.auth_time is not None and (
            isinstance(self.auth_time, bool) or not isinstance(self.auth_time, int)
        ):
            raise ValueError("Account.auth_time must be an int (seconds since the epoch) or None")


class AccountSource(Protocol):
    """Where accounts come from.  Every method may be called on every request."""

    def by_id(self, account_id: str) -> Account | None:
        """The account with this key, or None if it no longer exists."""

    def by_login(self, login: str) -> Account | None:
        """The account that signs in with ``login`` (an email address), or None."""

    def verify_password(self, account: Account | None, password: str) -> bool:
        """Whether ``password`` is the account's.  With ``account`` None, spend the same
        time as for a wrong password and return False (no account enumeration)."""

    def claims(self, account: Account, scopes: Sequence[str]) -> Mapping[str, Any]:
        """The account's claim values for ``scopes`` (more is harmless: it is filtered)."""


HostLogin = Callable[[Request], "Account | None"]


@dataclass(frozen=True)
class PublicClient:
    """What a host's ``client_access`` rule is told about a client: its public
    registration, never its stored secret digests."""

    client_id: str
    name: str
    client_uri: str = ""
    allowed_scopes: frozenset[str] = frozenset()
    grant_types: tuple[str, ...] = ()
    is_public: bool = False

    @classmethod
    def of(cls, client: Client) -> PublicClient:
        return cls(
            client_id=client.client_id,
            name=client.name,
            client_uri=client.client_uri,
            allowed_scopes=client.allowed_scopes,
            grant_types=client.grant_types,
            is_public=client.is_public,
        )


# (account, client) -> may this account use this client?  (docs/hosting.md)
ClientAccess = Callable[[Account, PublicClient], bool]


@dataclass(frozen=True)
class HostSignIn:
    """The host application's signed-in person: the host's account and our user."""

    account: Account
    user: User


@dataclass(frozen=True)
class StoredAccount(Account):
    """A built-in account with the ``oidc_user`` row it was read from, so that checking its
    password and finding its user, in the same request, need no second and third query."""

    record: User | None = field(default=None, repr=False, compare=False)


class DatabaseAccounts:
    """The built-in account source: the ``oidc_user`` table, argon2id passwords."""

    def __init__(self, storage: Storage, passwords: PasswordService) -> None:
        self._storage = storage
        self._passwords = passwords

    def by_id(self, account_id: str) -> Account | None:
        user = self._storage.users.by_subject(account_id)
        return self.account(user) if user else None

    def by_login(self, login: str) -> Account | None:
        user = self._storage.users.by_email(login)
        return self.account(user) if user else None

    def verify_password(self, account: Account | None, password: str) -> bool:
        user = self.user_of(account) if account else None
        try:
            return self._passwords.verify(user.password_hash if user else None, password)
        except PasswordTooLong:
            return False

    def claims(self, account: Account, scopes: Sequence[str]) -> Mapping[str, Any]:
        return account.claims

    @staticmethod
    def account(user: User) -> Account:
        claims = user_claims(user)
        return StoredAccount(user.subject, user.email or "", claims, user.is_admin, record=user)

    def user_of(self, account: Account) -> User | None:
        """The account's ``oidc_user`` row: the one it was read with, else looked up."""
        if isinstance(account, StoredAccount) and account.record is not None:
            return account.record
        return self._storage.users.by_subject(account.id)


class Accounts:
    """The provider's side: people as ``oidc_user`` rows, whatever the source."""

    def __init__(
        self,
        storage: Storage,
        source: AccountSource,
        host_login: HostLogin | None = None,
        *,
        throttle: Throttle,
        client_access: ClientAccess | None = None,
    ) -> None:
        self._storage = storage
        self.source = source
        self.host_login = host_login
        self.client_access = client_access
        self.throttle = throttle
        self._database = source if isinstance(source, DatabaseAccounts) else None
        self._builtin = self._database is not None

    def authenticate(self, login: str, password: str, *, address: str) -> User | None:
        """The user whose login and password these are, or None (same answer and work for
        an unknown login).  Every password check goes through here.

        ``address`` is the client's IP address (``Provider.client_address(request)``):
        failures are counted per address, per account and per both, and while one of them
        is locked this raises :class:`~oidc_core.throttle.Throttled` (``retry_after``
        seconds) without checking the password, even a right one.  Show it as the same
        failure as a wrong password, with status 429 and ``Retry-After``.

        A suspended or closed account gets None too, after the same work, and the attempt
        counts as a failure: the answer tells nobody that the account exists."""
        login = login.strip()

        def check() -> User | None:
            account = self.source.by_login(login) if 0 < len(login) <= MAX_LOGIN_LENGTH else None
            if not self.source.verify_password(account, password) or account is None:
                return None
            user = self.user_for(account)
            return user if self.active(user) else None

        return self.throttle.password_attempt(login, address, check)

    def password_matches(self, user: User, password: str) -> bool:
        """Whether ``password`` is the active ``user``'s, NOT counted: only for a caller
        that counts the attempt itself (:func:`oidc_core.mfa.codes.check_code_or_password`,
        a proof that may be a code or the password).  Others use :meth:`authenticate`."""
        account = self.account_of(user)
        return (
            account is not None
            and self.active(user)
            and self.source.verify_password(account, password)
        )

    @property
    def builtin(self) -> bool:
        """Whether accounts are the provider's own (``oidc_user``): then their profile and
        password may be changed on the account pages; a host's source owns its data."""
        return self._builtin

    def host_user(self, request: Request) -> User | None:
        """The host application's signed-in user (``host_login``), if any."""
        host = self.host_sign_in(request)
        return host.user if host else None

    def host_sign_in(self, request: Request) -> HostSignIn | None:
        """Who is signed in to the host application (``host_login``), and how, if anyone."""
        account = self.host_login(request) if self.host_login else None
        return HostSignIn(account, self.user_for(account)) if account else None

    @staticmethod
    def active(user: User) -> bool:
        """Whether the account may sign in and use its tokens (not suspended or closed)."""
        return user.status == ACTIVE

    def may_use(self, user: User, client: Client) -> bool:
        """Whether ``user`` may be issued a code or tokens for ``client``: an active account
        the source still has, that the host's ``client_access`` rule (if any) lets in."""
        if not self.active(user):
            return False
        if self.client_access is None:
            return True
        account = self.account_of(user)
        return account is not None and bool(self.client_access(account, PublicClient.of(client)))

    def user_for(self, account: Account) -> User:
        if self._database is not None:
            user = self._database.user_of(account)
            if user is None:
                raise LookupError(f"no built-in account {account.id!r}")
            return user
        return self._storage.users.for_external(account.id)

    def account_of(self, user: User) -> Account | None:
        """The source's account for a user, or None when the source no longer has it or
        the account is not active (suspended, closed): to every page and check that asks,
        such an account is not there."""
        if not self.active(user):
            return None
        if self._builtin:
            return DatabaseAccounts.account(user)
        return self.source.by_id(user.external_id) if user.external_id else None

    def by_subject(self, subject: str) -> Account | None:
        """The account a ``sub`` was issued to (for hosts checking our access tokens)."""
        user = self._storage.users.by_subject(subject)
        return self.account_of(user) if user else None

    def claims(self, user: User, scopes: Sequence[str]) -> dict[str, Any] | None:
        """The claims released for ``scopes``; None when the account is gone."""
        account = self.account_of(user)
        if account is None:
            return None
        return self.claims_of(account, user, scopes)

    def claims_of(
        self,
        account: Account,
        user: User,
        scopes: Sequence[str],
        client: SubjectPolicy | None = None,
    ) -> dict[str, Any]:
        """The claims released for ``scopes`` of a user whose ``account`` was found, with
        the ``sub`` that ``client`` sees (OIDC Core 8; None: the user's own)."""
        subject = user.subject
        if client is not None:
            subject = subject_for(self._storage, client, user.subject)
        return released(self.source.claims(account, scopes), subject, scopes)

    def is_admin(self, user: User) -> bool:
        account = self.account_of(user)
        return account is not None and account.is_admin

    def actor(self, user: User) -> str:
        """How the audit log names a person."""
        account = self.account_of(user)
        return account.login if account and account.login else f"sub:{user.subject}"
