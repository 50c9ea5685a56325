"""Client administration: one implementation behind the console, the API and the CLI.

Every operation validates with :mod:`oidc_core.registration`, changes storage in one
transaction together with its audit entry (who, what, when; never a secret), and returns
plain values.  Errors are :class:`~oidc_core.registration.InvalidMetadata` (which field
and why) or :class:`ClientNotFound`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from .. import registration, sectors
from ..records import AuditEntry, Client, ClientFields
from ..storage import Audit, ClientIdTaken, Storage
from ..ui.translations import N_, Message
from .client_import import Entry, ImportedClient, InvalidImport, check_unique, checked

MAX_GRACE_SECONDS = 7 * 86400
MAX_OFFSET = 999_999_999
MAX_LIMIT = 1000
SORT_KEYS = ("name", "created_at", "updated_at", "client_id")
CREDENTIAL_SORT_KEYS = ("id", *SORT_KEYS)
MAX_CREDENTIALS = 1000


class ClientNotFound(LookupError):
    """There is no client with this client_id."""


def _changed(data: Collection[str], name: str) -> dict[str, Any]:
    """An audit entry's details: the fields given, and the client's name (kept for the
    log's sake once the client is deleted)."""
    return {"fields": sorted(data), "client_name": name}


def _check_grace(grace_seconds: int) -> None:
    if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int):
        raise registration.InvalidMetadata("grace_seconds", N_("must be a whole number"))
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise registration.InvalidMetadata(
            "grace_seconds",
            Message(
                N_("must be between %(low)s and %(high)s"), {"low": 0, "high": MAX_GRACE_SECONDS}
            ),
        )


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise registration.InvalidMetadata("limit", f"must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise registration.InvalidMetadata("offset", f"must be between 0 and {MAX_OFFSET}")


class ClientAdmin:
    def __init__(self, storage: Storage, fetch_sector: sectors.Fetch | None = None) -> None:
        """``fetch_sector``: how ``sector_identifier_uri`` documents are fetched
        (:class:`~oidc_core.sectors.SectorFetcher` of the settings; by default with the
        strictest rules: public addresses only, no proxy)."""
        self._storage = storage
        self._fetch_sector = fetch_sector or sectors.SectorFetcher()

    def by_credential_id(self, credential_id: int) -> Client:
        """The client whose primary key is ``credential_id`` (the reference billing system's
        name for it)."""
        client = self._storage.clients.by_id(credential_id)
        if client is None:
            raise ClientNotFound(str(credential_id))
        return client

    def get(self, client_id: str) -> Client:
        client = self._storage.clients.by_client_id(client_id) if client_id else None
        if client is None:
            raise ClientNotFound(client_id)
        return client

    def last_used(self, client_id: str) -> int | None:
        """When the client was last issued an access token (None: never)."""
        return self._storage.clients.last_used(client_id)

    def described(self, client: Client) -> dict[str, Any]:
        """The client's metadata as the API and the CLI show it, with ``last_used_at``."""
        return registration.client_metadata(client, self.last_used(client.client_id))

    def _check_signing_key(self, fields: ClientFields) -> None:
        """A client's ID token algorithm needs a current key, or its logins would fail."""
        alg = fields.id_token_signed_response_alg
        if alg and not any(k.alg == alg and k.state == "current" for k in self._storage.keys.all()):
            raise registration.InvalidMetadata(
                "id_token_signed_response_alg",
                Message(
                    N_(
                        "there is no %(alg)s signing key yet: create one with "
                        "`oidc-core keys rotate --alg %(alg)s`"
                    ),
                    {"alg": alg},
                ),
            )

    def checked_fields(
        self, data: Mapping[str, Any], current: ClientFields | None = None
    ) -> ClientFields:
        """Metadata validated whole, as every way of writing a client needs it (the console,
        the API, the CLI, registration): :func:`~oidc_core.registration.client_fields`, a
        signing key for its algorithm, and its pairwise sector (:mod:`oidc_core.sectors`,
        which may fetch the ``sector_identifier_uri``: call it outside any transaction).
        Raises :class:`~oidc_core.registration.InvalidMetadata`; nothing is stored here."""
        fields = registration.client_fields(data, current)
        self._check_signing_key(fields)
        return sectors.resolve(fields, current, self._fetch_sector)

    def create(self, data: Mapping[str, Any], actor: str) -> tuple[Client, str | None]:
        """Create a client from metadata; its secret (None when public) is returned once."""
        fields = self.checked_fields(data)
        return self._storage.clients.create(
            fields, Audit(actor, "client.create", _changed(data, fields.name))
        )

    def register(
        self, fields: ClientFields, given: Collection[str], actor: str, token_id: int | None
    ) -> tuple[Client, str | None, str]:
        """RFC 7591 3: create a client from checked fields, spending one use of the initial
        access token ``token_id`` (None: open registration) in the same transaction.
        Returns the client, its secret (None when public) and its registration access
        token; raises :class:`~oidc_core.storage.TokenSpent` when the token is spent."""
        details = {**_changed(given, fields.name), "initial_access_token": token_id}
        return self._storage.initial_access_tokens.register(
            token_id, fields, Audit(actor, "client.register", details)
        )

    def update(self, client_id: str, data: Mapping[str, Any], actor: str) -> Client:
        """Change the given fields; the others keep their value."""
        fields = self.checked_fields(data, ClientFields.of(self.get(client_id)))
        return self._store_update(client_id, data, fields, actor)

    def _store_update(
        self, client_id: str, data: Mapping[str, Any], fields: ClientFields, actor: str
    ) -> Client:
        updated = self._storage.clients.update(
            client_id, fields, Audit(actor, "client.update", _changed(data, fields.name))
        )
        if updated is None:
            raise ClientNotFound(client_id)
        return updated

    def reset_secret(self, client_id: str, actor: str, grace_seconds: int = 0) -> str:
        """A new secret, shown once; the old one dies now, or after ``grace_seconds``."""
        _check_grace(grace_seconds)
        client = self.get(client_id)
        if client.is_public:
            raise registration.InvalidMetadata(
                "token_endpoint_auth_method", N_("a public client has no secret to reset")
            )
        secret = self._storage.clients.reset_secret(
            client_id,
            grace_seconds,
            Audit(
                actor,
                "client.reset_secret",
                {"grace_seconds": grace_seconds, "client_name": client.name},
            ),
        )
        if secret is None:
            raise ClientNotFound(client_id)
        return secret

    def change(
        self,
        client_id: str,
        data: Mapping[str, Any],
        actor: str,
        *,
        reset_secret: bool = False,
        grace_seconds: int = 0,
        check: Callable[[ClientFields], None] | None = None,
        checked: ClientFields | None = None,
    ) -> tuple[Client, str | None]:
        """Update the given fields and reset the secret if asked, as one transaction.

        Everything is validated before anything changes (``check``: a further rule on the
        resulting fields, such as an initial access token's limits).  ``checked``: the
        fields :meth:`checked_fields` already made of ``data`` outside the caller's
        transaction (it may fetch a sector document, which must never hold the database's
        write lock).  A public client made confidential gets a secret too (it has none to
        keep); the secret (or None) is returned once.
        """
        current = self.get(client_id)
        _check_grace(grace_seconds)
        fields = checked or self.checked_fields(data, ClientFields.of(current))
        if check is not None:
            check(fields)
        needs_secret = reset_secret or (current.is_public and not fields.is_public)
        if needs_secret and fields.is_public:
            raise registration.InvalidMetadata(
                "reset_secret", N_("a public client has no secret to reset")
            )
        if grace_seconds and (not needs_secret or current.is_public):
            raise registration.InvalidMetadata(
                "grace_seconds", N_("only with reset_secret, for a client that has a secret")
            )
        if not needs_secret:
            return self._store_update(client_id, data, fields, actor), None
        # The client is read back inside the transaction: a failure after the commit would
        # leave a new secret stored that nobody was shown (and the old one dead).
        with self._storage.transaction():
            if data:
                self._store_update(client_id, data, fields, actor)
            secret = self.reset_secret(client_id, actor, grace_seconds)
            changed = self.get(client_id)
        return changed, secret

    def checked_import(self, entries: list[Entry]) -> list[ImportedClient]:
        """Every entry of an import validated, and none of their ids taken; the first
        error raises :class:`InvalidImport` naming its entry and field."""
        clients = [checked(entry) for entry in entries]
        check_unique(clients)
        taken = self._storage.clients.names([client.client_id for client in clients])
        for client in clients:
            if client.client_id in taken:
                raise InvalidImport(
                    client.where, "client_id", f"{client.client_id} is already a client's id"
                )
        return clients

    def import_clients(self, clients: list[ImportedClient], actor: str) -> None:
        """Store checked clients with their own ids and secrets: all of them or none, each
        with a ``client.import`` audit entry (never the secret)."""
        with self._storage.transaction():
            for client in clients:
                details = {"fields": list(client.given), "client_name": client.fields.name}
                try:
                    self._storage.clients.create_imported(
                        client.client_id, client.secret, client.fields,
                        Audit(actor, "client.import", details),
                    )  # fmt: skip
                except ClientIdTaken:  # by someone else since the check: none is imported
                    raise InvalidImport(
                        client.where, "client_id", f"{client.client_id} is already a client's id"
                    ) from None

    def delete(self, client_id: str, actor: str) -> None:
        """Delete the client and every code, token and consent it has."""
        audit = Audit(actor, "client.delete", {"client_name": self.get(client_id).name})
        if not self._storage.clients.delete(client_id, audit):
            raise ClientNotFound(client_id)

    def search(
        self, text: str = "", sort: str = "name", limit: int = 100, offset: int = 0
    ) -> list[tuple[Client, int | None]]:
        """Clients matching ``text`` (name or client_id); ``sort`` may start with ``-``."""
        if not text.isprintable():  # NUL cannot even be sent to PostgreSQL
            raise registration.InvalidMetadata("q", "must not contain control characters")
        descending = sort.startswith("-")
        key = sort.lstrip("-")
        if key not in SORT_KEYS:
            raise registration.InvalidMetadata("sort", f"must be one of {', '.join(SORT_KEYS)}")
        _check_page(limit, offset)
        return self._storage.clients.search(text, key, descending, limit, offset)

    def credentials(
        self, grant_type: str = "", sort: str = "id", descending: bool = False, limit: int = 100
    ) -> tuple[int, list[Client]]:
        """The count of clients with the reference billing system's ``grant_type`` ("":
        all) and the first ``limit`` of them (:meth:`ClientStore.credentials`)."""
        if grant_type and grant_type not in registration.CREDENTIAL_GRANT_TYPES:
            raise registration.InvalidMetadata(
                "credential_grant_type",
                f"must be one of {', '.join(registration.CREDENTIAL_GRANT_TYPES)}",
            )
        if sort not in CREDENTIAL_SORT_KEYS:
            raise registration.InvalidMetadata(
                "sort", f"must be one of {', '.join(CREDENTIAL_SORT_KEYS)}"
            )
        if not 1 <= limit <= MAX_CREDENTIALS:
            raise registration.InvalidMetadata("limit", f"must be between 1 and {MAX_CREDENTIALS}")
        return self._storage.clients.credentials(grant_type, sort, descending, limit)

    def audit_log(self, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        """The audit log, newest first."""
        _check_page(limit, offset)
        return self._storage.audit.entries(limit, offset)

    def names(self, client_ids: Collection[str]) -> dict[str, str]:
        """The names of the clients among ``client_ids`` that exist (the others are gone)."""
        return self._storage.clients.names(client_ids)
