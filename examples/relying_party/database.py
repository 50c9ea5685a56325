"""The relying party's own data, in one SQLite file (standard library ``sqlite3``).

* ``local_account``: the relying party's own users, with their own passwords.  The provider
  knows nothing about them: this is the application that existed before "Log in with ...".
* ``account_link``: which provider identity belongs to which local account.  An identity is
  the pair (issuer, sub): ``sub`` is only unique *at one issuer* (OpenID Connect Core 5.7),
  and it is the only claim that never changes (an email address can).
* ``browser_session``: one row per browser, found by the random value of its cookie.

The server answers each connection in a thread of its own, so every call opens its own
short-lived connection (an ``sqlite3`` connection belongs to the thread that opened it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS local_account (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS account_link (
    issuer TEXT NOT NULL,
    sub TEXT NOT NULL,
    username TEXT NOT NULL REFERENCES local_account (username),
    PRIMARY KEY (issuer, sub)
);
CREATE TABLE IF NOT EXISTS browser_session (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
"""

# Demo local accounts, created with the database.  Their passwords are the relying party's
# own: they are not the provider's demo password.
DEMO_ACCOUNTS = [
    ("alice", "Alice Local", "alice-local-password"),
    ("bob", "Bob Local", "bob-local-password"),
]


def hash_password(password: str) -> str:
    """scrypt with a random salt; ``salt$hash`` in hex (parameters as OWASP's minimum)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return salt.hex() + "$" + digest.hex()


def password_matches(password: str, stored: str) -> bool:
    salt, expected = stored.split("$")
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), expected)  # constant time


# Hashed once, so that an unknown username costs as much time as a wrong password.
_NO_ACCOUNT = hash_password(secrets.token_urlsafe(16))


class Database:
    def __init__(self, path: str) -> None:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.path = path
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call; committed at the end, or rolled back on an error."""
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.row_factory = sqlite3.Row
            yield connection

    def create_demo_accounts(self) -> list[tuple[str, str]]:
        """Create the demo local accounts if there are none; (username, password) created."""
        with self._db() as db:
            if db.execute("SELECT 1 FROM local_account").fetchone():
                return []
            for username, display_name, password in DEMO_ACCOUNTS:
                db.execute(
                    "INSERT INTO local_account VALUES (?, ?, ?)",
                    (username, display_name, hash_password(password)),
                )
        return [(username, password) for username, _name, password in DEMO_ACCOUNTS]

    # Local accounts and links

    def authenticate(self, username: str, password: str) -> sqlite3.Row | None:
        """The local account if the password is right, else None."""
        account = self.account(username)
        stored = account["password_hash"] if account else _NO_ACCOUNT
        if password_matches(password, stored) and account:
            return account
        return None

    def account(self, username: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM local_account WHERE username = ?", username)

    def linked_account(self, issuer: str, sub: str) -> sqlite3.Row | None:
        return self._one(
            "SELECT local_account.* FROM account_link JOIN local_account USING (username) "
            "WHERE issuer = ? AND sub = ?",
            issuer,
            sub,
        )

    def link(self, issuer: str, sub: str, username: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO account_link VALUES (?, ?, ?)", (issuer, sub, username))

    def unlink(self, issuer: str, sub: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM account_link WHERE issuer = ? AND sub = ?", (issuer, sub))

    # Browser sessions

    def load_session(self, session_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT data FROM browser_session WHERE id = ?", session_id)
        return json.loads(row["data"]) if row else None

    def save_session(self, session_id: str, data: dict[str, Any]) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO browser_session VALUES (?, ?)",
                (session_id, json.dumps(data)),
            )

    def delete_session(self, session_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM browser_session WHERE id = ?", (session_id,))

    def _one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        with self._db() as db:
            row: sqlite3.Row | None = db.execute(sql, params).fetchone()
        return row
