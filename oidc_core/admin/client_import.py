"""Clients moved from another provider: their existing ids and secrets, read from a JSON or
CSV export and checked whole before anything is stored.

Every field other than the id and the secret goes through
:func:`oidc_core.registration.client_fields`, the one validation the console, the API and
``client create`` use.  The id is the relying party's existing one: printable ASCII without
spaces (RFC 6749 appendix A ``VSCHAR``, less the space so it survives copy and paste),
1 to 64 characters (the column).  The secret too, and at least
:data:`MIN_SECRET_LENGTH` characters: shorter ones are refused, and one shorter than
:data:`GOOD_SECRET_LENGTH` is imported with a warning to reset it (it is stored as a fast
SHA-256 digest like every secret, which only a long random secret makes safe).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import registration
from ..records import ClientFields
from ..text import escaped

FORMATS = ("json", "csv")
MAX_CLIENT_ID_LENGTH = 64  # models.Client.client_id
MIN_SECRET_LENGTH = 16
GOOD_SECRET_LENGTH = 32
MAX_SECRET_LENGTH = 255
# The import's field names, and the client metadata (RFC 7591) name each one becomes.
_METADATA = {
    "name": "client_name",
    "description": "description",
    "client_uri": "client_uri",
    "logo_uri": "logo_uri",
    "redirect_uris": "redirect_uris",
    "post_logout_redirect_uris": "post_logout_redirect_uris",
    "allowed_scopes": "scope",
    "scope": "scope",
    "grant_types": "grant_types",
    "require_pkce": "require_pkce",
    "skip_consent": "skip_consent",
}
FIELDS = frozenset({"client_id", "client_secret", "is_public", *_METADATA})
_LISTS = frozenset({"redirect_uris", "post_logout_redirect_uris", "grant_types"})
_FLAGS = frozenset({"is_public", "require_pkce", "skip_consent"})
_CHANGED_BY_FORM_DECODING = frozenset("%+:")
_CSV_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class InvalidImport(ValueError):
    """The file cannot be imported; ``where`` names the entry (or the file), ``field`` the
    field (empty when the entry or the file as a whole is wrong)."""

    def __init__(self, where: str, field: str, message: str) -> None:
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")
        self.where = where
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One client as read from the file: where it is, and its fields as given."""

    where: str
    values: dict[str, Any]


@dataclass(frozen=True)
class ImportedClient:
    """One checked client, ready to store."""

    where: str
    client_id: str
    secret: str | None
    fields: ClientFields
    given: tuple[str, ...]  # the metadata names given, for the audit entry
    warning: str = ""


def format_of(filename: str) -> str:
    """The format named by a file's extension (``clients.json``: json)."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension not in FORMATS:
        raise InvalidImport(
            "the file", "", "cannot tell its format from its name: give --format json or csv"
        )
    return extension


def entries(text: str, file_format: str) -> list[Entry]:
    """The entries of a JSON export (a list of objects, or an object with the list under
    ``clients``) or of a CSV export (a header row, then one client per row)."""
    found = _json_entries(text) if file_format == "json" else _csv_entries(text)
    if not found:
        raise InvalidImport("the file", "", "holds no clients")
    return found


def _json_entries(text: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidImport("the file", "", f"not valid JSON: {exc}") from None
    if isinstance(data, dict) and set(data) == {"clients"}:
        data = data["clients"]
    if not isinstance(data, list):
        raise InvalidImport("the file", "", 'must be a list of clients, or {"clients": [...]}')
    found = []
    for number, item in enumerate(data, start=1):
        where = f"entry {number}"
        if not isinstance(item, dict):
            raise InvalidImport(where, "", "must be an object")
        found.append(Entry(where, item))
    return found


def _csv_entries(text: str) -> list[Entry]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    found = []
    try:
        header = list(reader.fieldnames or [])
        _check_header(header)
        start = reader.line_num + 1  # a quoted cell may hold line breaks: where a row starts
        for row in reader:
            where = f"line {start}"
            start = reader.line_num + 1
            if None in row or None in row.values():
                raise InvalidImport(where, "", f"must have the {len(header)} cells of the header")
            found.append(Entry(where, {k: _csv_value(where, k, v) for k, v in row.items() if v}))
    except csv.Error as exc:
        # the reader counts the lines before the record it could not read
        raise InvalidImport(f"line {reader.line_num + 1}", "", f"not valid CSV: {exc}") from None
    return found


def _check_header(header: list[str]) -> None:
    if not header:
        raise InvalidImport("line 1", "", "a header row naming the fields is required")
    unknown = [name for name in header if name not in FIELDS]
    if unknown:
        raise InvalidImport("line 1", escaped(unknown[0]), "unknown field")
    if len(set(header)) != len(header):
        raise InvalidImport("line 1", "", "a field is named twice")


def _csv_value(where: str, key: str, value: str) -> Any:
    """A cell as the JSON value it stands for: lists space- or newline-separated, flags
    true/false (yes/no, 1/0)."""
    if key in _LISTS:
        return value.split()
    if key in _FLAGS:
        flag = _CSV_FLAGS.get(value.strip().lower())
        if flag is None:
            raise InvalidImport(where, key, "must be true or false")
        return flag
    return value


def checked(entry: Entry) -> ImportedClient:
    """One entry validated whole: its id, its secret, and its metadata as ``client create``
    validates it.  Whether the id is taken is the caller's to check."""
    values = entry.values
    unknown = sorted(set(values) - FIELDS, key=str)
    if unknown:
        raise InvalidImport(entry.where, escaped(str(unknown[0])), "unknown field")
    if "scope" in values and "allowed_scopes" in values:
        raise InvalidImport(entry.where, "scope", "give scope or allowed_scopes, not both")
    is_public = values.get("is_public", False)
    if not isinstance(is_public, bool):
        raise InvalidImport(entry.where, "is_public", "must be true or false")
    client_id = _client_id(entry.where, values.get("client_id"))
    secret = _secret(entry.where, values.get("client_secret"), is_public)
    metadata = {_METADATA[key]: _listed(key, value) for key, value in values.items()
                if key in _METADATA}  # fmt: skip
    if "grant_types" in metadata and isinstance(metadata["grant_types"], list):
        metadata["grant_types"] = ["authorization_code", *metadata["grant_types"]]
    metadata["token_endpoint_auth_method"] = "none" if is_public else "client_secret_basic"
    try:
        fields = registration.client_fields(metadata)
    except registration.InvalidMetadata as exc:
        raise InvalidImport(entry.where, _field_named(exc.field, values), exc.message) from None
    warning = "; ".join(_doubts(client_id, secret))
    if warning:
        warning = f"{entry.where}: client {client_id}: {warning}"
    return ImportedClient(entry.where, client_id, secret, fields, tuple(sorted(metadata)), warning)


def _doubts(client_id: str, secret: str | None) -> list[str]:
    """What an operator should know about an imported id and secret that are accepted."""
    doubts = []
    if secret is not None and len(secret) < GOOD_SECRET_LENGTH:
        doubts.append(
            f"the secret is shorter than {GOOD_SECRET_LENGTH} characters: reset it when the "
            "relying party can take a new one"
        )
    # RFC 6749 2.3.1: Basic credentials are form-urlencoded first; a client that sends them
    # as they are then presents another id or secret (``+`` reads as a space).
    if any(ch in _CHANGED_BY_FORM_DECODING for ch in client_id + (secret or "")):
        doubts.append(
            "its id or secret holds %, + or :, which client_secret_basic works with only when "
            "the relying party form-urlencodes them (RFC 6749 2.3.1); client_secret_post works"
        )
    return doubts


def _field_named(metadata_field: str, values: dict[str, Any]) -> str:
    """The import's own name of a metadata field (``client_name``: ``name``), as the file
    gave it."""
    names = [key for key, field in _METADATA.items() if field == metadata_field]
    given = [name for name in names if name in values]
    return (given or names or [metadata_field])[0]


def _listed(key: str, value: Any) -> Any:
    """Scopes may be a JSON list; the metadata wants one string."""
    is_scope_list = key in ("scope", "allowed_scopes") and isinstance(value, list)
    if is_scope_list and all(isinstance(scope, str) for scope in value):
        return " ".join(value)
    return value


def _client_id(where: str, value: Any) -> str:
    if value is None or value == "":
        raise InvalidImport(where, "client_id", "is required (the relying party's existing id)")
    if not isinstance(value, str):
        raise InvalidImport(where, "client_id", "must be a string")
    if len(value) > MAX_CLIENT_ID_LENGTH:
        raise InvalidImport(where, "client_id", f"at most {MAX_CLIENT_ID_LENGTH} characters")
    if not _is_visible_ascii(value):
        raise InvalidImport(
            where, "client_id", "must be printable ASCII without spaces or control characters"
        )
    return value


def _secret(where: str, value: Any, is_public: bool) -> str | None:
    field = "client_secret"
    if is_public:
        if value not in (None, ""):
            raise InvalidImport(where, field, "a public client (is_public true) has no secret")
        return None
    if value is None or value == "":
        raise InvalidImport(where, field, "is required, unless is_public is true")
    if not isinstance(value, str):
        raise InvalidImport(where, field, "must be a string")
    if not MIN_SECRET_LENGTH <= len(value) <= MAX_SECRET_LENGTH:
        raise InvalidImport(
            where, field, f"must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters"
        )
    if not _is_visible_ascii(value):
        raise InvalidImport(
            where, field, "must be printable ASCII without spaces or control characters"
        )
    return value


def _is_visible_ascii(text: str) -> bool:
    return all("!" <= ch <= "~" for ch in text)


def check_unique(clients: Iterable[ImportedClient]) -> None:
    """No client id twice in one file."""
    seen: set[str] = set()
    for client in clients:
        if client.client_id in seen:
            raise InvalidImport(
                client.where, "client_id", f"{client.client_id} is in the file twice"
            )
        seen.add(client.client_id)
