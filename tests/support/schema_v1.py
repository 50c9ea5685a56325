"""A database at schema version 1 (0.1.0) with data in it, on SQLite, PostgreSQL or MySQL.

The schema is the DDL 0.1.0's models give on each server (``tests/core/data/``); the rows
are the same everywhere (:func:`rows`): a client, a user, a used code, the access token
redeemed with it and a consent.  Upgrade tests start from :func:`fresh_v1` (inside
:func:`lent`) or :func:`v1_sqlite` and check that every one of these rows survives.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy, open_database
from oidc_core.storage.models import ALL_MODELS

DATA = Path(__file__).parents[1] / "core" / "data"
ACCESS_TOKEN = "an-access-token-issued-by-0.1.0"
OLD_SECRET = b"old secret"
CLIENT_PK, USER_PK, CODE_PK = 7, 3, 5
TOKEN_EXPIRES_AT = int(time.time()) + 3600
KEY_COLUMNS = ("kid", "alg", "private_pem", "state", "created_at", "activated_at", "retired_at")


def rows() -> list[tuple[str, dict[str, Any]]]:
    """(table, row) in an order that satisfies the foreign keys."""
    return [
        ("oidc_schema_version", {"version": 1}),
        (
            "oidc_client",
            {
                "id": CLIENT_PK,
                "client_id": "c1",
                "secret_digest": hashlib.sha256(OLD_SECRET).hexdigest(),
                "name": "Old app",
                "description": "",
                "client_uri": "",
                "logo_uri": "",
                "redirect_uris": "https://rp.example/cb",
                "allowed_scopes": "openid email",
                "require_pkce": True,
                "skip_consent": False,
                "created_at": 10,
                "updated_at": 20,
            },
        ),
        (
            "oidc_user",
            {
                "id": USER_PK,
                "subject": "sub1",
                "email": "old@example.com",
                "password_hash": "x",
                "name": "Old",
                "given_name": "",
                "family_name": "",
                "preferred_username": "",
                "locale": "",
                "email_verified": True,
                "is_admin": False,
                "created_at": 1,
                "updated_at": 1,
            },
        ),
        (
            "oidc_authorization_code",
            {
                "id": CODE_PK,
                "code_digest": "c" * 64,
                "client_id": CLIENT_PK,
                "user_id": USER_PK,
                "redirect_uri": "https://rp.example/cb",
                "scopes": "openid email",
                "auth_time": 1,
                "created_at": 1,
                "expires_at": 61,
                "used_at": 30,
            },
        ),
        (
            "oidc_access_token",
            {
                "token_digest": hashlib.sha256(ACCESS_TOKEN.encode()).hexdigest(),
                "client_id": CLIENT_PK,
                "user_id": USER_PK,
                "code_id": CODE_PK,
                "scopes": "openid email",
                "created_at": 30,
                "expires_at": TOKEN_EXPIRES_AT,
            },
        ),
        (
            "oidc_consent",
            {
                "user_id": USER_PK,
                "client_id": CLIENT_PK,
                "scopes": "openid email",
                "granted_at": 30,
            },
        ),
    ]


def dialect(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    return "mysql" if url.startswith("mysql") else "postgresql"


def create_v1(db: Any, url: str) -> None:
    """Schema version 1 and :func:`rows` in ``db`` (empty), opened from ``url``."""
    lines = (DATA / f"schema_v1_{dialect(url)}.sql").read_text().splitlines()
    ddl = "\n".join(line for line in lines if not line.startswith("--"))
    for statement in ddl.split(";\n"):
        if statement.strip():
            db.execute_sql(statement)
    with db.atomic():
        for table, row in rows():
            columns = ", ".join(row)
            params = ", ".join([db.param] * len(row))
            db.execute_sql(f"INSERT INTO {table} ({columns}) VALUES ({params})", list(row.values()))


def v1_sqlite(path: Path) -> str:
    """A new SQLite file at schema version 1 with :func:`rows`; its URL."""
    url = f"sqlite:///{path}"
    db = open_database(url)
    try:
        create_v1(db, url)
    finally:
        db.close()
    return url


def fresh_v1(database_url: str, storage: Storage, tmp_path: Path) -> str:
    """The URL of a database at schema version 1 with :func:`rows`: a new SQLite file, or
    the suite's own PostgreSQL or MySQL database, its tables dropped and rebuilt at schema 1
    (inside :func:`lent`)."""
    if dialect(database_url) == "sqlite":
        return v1_sqlite(tmp_path / "v1.db")
    database_proxy.initialize(storage.database)  # drop_tables goes through the models
    storage.database.drop_tables(ALL_MODELS, cascade=True, safe=True)
    create_v1(storage.database, database_url)
    return database_url


@contextlib.contextmanager
def lent(storage: Storage) -> Iterator[None]:
    """The suite's database lent to tests that rebuild it (:func:`fresh_v1`), then given
    back at the newest schema with its signing keys, the models bound to it again.  A
    SQLite suite database is left alone (:func:`fresh_v1` makes new files)."""
    db = storage.database
    if dialect(storage.url) == "sqlite":
        try:
            yield
        finally:
            database_proxy.initialize(db)
        return
    keys = db.execute_sql(f"SELECT {', '.join(KEY_COLUMNS)} FROM oidc_signing_key").fetchall()
    try:
        yield
    finally:
        database_proxy.initialize(db)
        db.drop_tables(ALL_MODELS, cascade=True, safe=True)
        storage.upgrade()
        params = ", ".join([db.param] * len(KEY_COLUMNS))
        for key in keys:
            db.execute_sql(
                f"INSERT INTO oidc_signing_key ({', '.join(KEY_COLUMNS)}) VALUES ({params})", key
            )
