"""The billing system's own customers, and how the provider sees them.

``Customers`` is the application's table: plain SQL on SQLite, argon2 password hashes.  It
knows nothing of OpenID Connect.  ``CustomerAccounts`` is the small translation the
provider asks for (``oidc_core.accounts.AccountSource``, see docs/hosting.md): find a
customer by number or by email, check a password, give the claims.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from oidc_core.accounts import Account

# Demo data on loopback only: these passwords are printed at start and in the README.
DEMO_CUSTOMERS = [
    ("alice@billing.example", "Alice Example", "alice-demo-password"),
    ("bob@billing.example", "Bob Example", "bob-demo-password"),
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS customer (
    -- AUTOINCREMENT: the number of a deleted customer is never given to anyone else,
    -- which is what the provider requires of an account's id.
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Customer:
    number: int
    email: str
    full_name: str
    password_hash: str


class Customers:
    """The ``customer`` table.  One short-lived connection per call: safe in any thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.hasher = PasswordHasher()
        # Checked when the email is unknown, so that a wrong email costs as much as a wrong
        # password and nobody can tell from the time which emails are customers'.
        self._dummy_hash = self.hasher.hash("not anybody's password")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path)) as connection, connection:
            yield connection  # the inner `with connection` commits, or rolls back

    def create_table_with_demo_customers(self) -> None:
        with self._db() as db:
            db.execute(SCHEMA)
            if db.execute("SELECT COUNT(*) FROM customer").fetchone()[0] == 0:
                db.executemany(
                    "INSERT INTO customer (email, full_name, password_hash) VALUES (?, ?, ?)",
                    [(e, n, self.hasher.hash(p)) for e, n, p in DEMO_CUSTOMERS],
                )

    def by_number(self, number: int) -> Customer | None:
        return self._one("SELECT * FROM customer WHERE number = ?", number)

    def by_email(self, email: str) -> Customer | None:
        return self._one("SELECT * FROM customer WHERE email = ?", email.strip().lower())

    def check_password(self, customer: Customer | None, password: str) -> bool:
        """Whether ``password`` is the customer's; as slow when ``customer`` is None."""
        try:
            self.hasher.verify(customer.password_hash if customer else self._dummy_hash, password)
        except VerificationError:
            return False
        return customer is not None

    def _one(self, sql: str, *params: Any) -> Customer | None:
        with self._db() as db:
            row = db.execute(sql, params).fetchone()
        return Customer(*row) if row else None


class CustomerAccounts:
    """The customers as the provider's account source (``set_oidc_account_source``).

    The provider never publishes a customer's number: it gives each customer a random
    ``sub`` of its own the first time it sees them, and keeps only the number with it.
    """

    def __init__(self, customers: Customers) -> None:
        self.customers = customers

    def by_id(self, account_id: str) -> Account | None:
        customer = self.customers.by_number(int(account_id)) if account_id.isdigit() else None
        return self.account(customer) if customer else None

    def by_login(self, login: str) -> Account | None:
        customer = self.customers.by_email(login)
        return self.account(customer) if customer else None

    def verify_password(self, account: Account | None, password: str) -> bool:
        customer = self.customers.by_number(int(account.id)) if account else None
        return self.customers.check_password(customer, password)

    def claims(self, account: Account, scopes: Sequence[str]) -> Mapping[str, Any]:
        return account.claims  # the provider keeps only those of the granted scopes

    @staticmethod
    def account(customer: Customer) -> Account:
        return Account(
            id=str(customer.number),  # our key: stable, never reused
            login=customer.email,
            claims={"name": customer.full_name, "email": customer.email},
        )
