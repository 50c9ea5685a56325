"""The provider's data for bench/run.py, written with the storage API before and between runs.

Two confidential clients (``client_secret_basic``; ID tokens RS256 and ES256), allowed
refresh tokens; one user with a password who consented to both clients for
``openid profile email offline_access``; a signed-in browser session for that user.  The
stateful scenarios get their inputs here: authorization codes and refresh tokens are
pre-issued (the code flow and the login make their own as they go).
"""

from __future__ import annotations

import base64
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from oidc_core import credentials
from oidc_core.keys import create_key_if_missing
from oidc_core.passwords import PasswordService
from oidc_core.records import ClientFields
from oidc_core.settings import Settings
from oidc_core.storage import NewCode, NewRefresh, Storage

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never called: the answers are redirects
SCOPES = ("openid", "profile", "email", "offline_access")
FLOW_SCOPES = ("openid", "profile", "email")
BATCH = 500


@dataclass
class Client:
    pk: int
    client_id: str
    authorization: str  # the Basic header


@dataclass
class Fixture:
    storage: Storage
    settings: Settings
    clients: dict[str, Client]  # by ID token algorithm
    user_id: int
    email: str
    password: str
    session_cookie: str  # "name=value" of a signed-in session

    def _new_code(self, client: Client, scopes: tuple[str, ...]) -> NewCode:
        return NewCode(
            code=credentials.new_token(),
            client_pk=client.pk,
            user_id=self.user_id,
            redirect_uri=REDIRECT_URI,
            scopes=scopes,
            nonce=secrets.token_urlsafe(12),
            claims=None,
            code_challenge=None,
            code_challenge_method=None,
            auth_time=int(time.time()),
            ttl=3600,
        )

    def codes(self, count: int, alg: str = "RS256") -> list[str]:
        """``count`` fresh codes for the client of ``alg``, committed ``BATCH`` at a time."""
        client = self.clients[alg]
        issued = []
        for start in range(0, count, BATCH):
            with self.storage.database.atomic():
                for _ in range(min(BATCH, count - start)):
                    new = self._new_code(client, SCOPES)
                    self.storage.grants.issue_code(None, new, remember_scopes=False)
                    issued.append(new.code)
        self.storage.close()  # no connection of ours stays open during a run
        return issued

    def refresh_tokens(self, count: int) -> list[str]:
        """``count`` live refresh tokens of the RS256 client, each of its own grant (a code
        redeemed with the storage API, as the token endpoint does)."""
        client = self.clients["RS256"]
        tokens = []
        for start in range(0, count, BATCH):
            with self.storage.database.atomic():
                for _ in range(min(BATCH, count - start)):
                    new = self._new_code(client, SCOPES)
                    self.storage.grants.issue_code(None, new, remember_scopes=False)
                    code = self.storage.grants.code(new.code)
                    assert code is not None
                    refresh = NewRefresh(credentials.new_token(), 86400, 86400 * 30)
                    self.storage.grants.redeem_code(
                        code, credentials.new_token(), SCOPES, 3600, refresh
                    )
                    tokens.append(refresh.token)
        self.storage.close()
        return tokens

    def access_token(self) -> str:
        """One live access token (1 day) of the user for the RS256 client."""
        new = self._new_code(self.clients["RS256"], FLOW_SCOPES)
        self.storage.grants.issue_code(None, new, remember_scopes=False)
        code = self.storage.grants.code(new.code)
        assert code is not None
        token = credentials.new_token()
        self.storage.grants.redeem_code(code, token, FLOW_SCOPES, 86400)
        self.storage.close()
        return token

    def database_pids(self) -> list[int]:
        """PostgreSQL backends serving the other connections to our database."""
        if not self.storage.url.startswith("postgres"):
            return []
        query = (
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in self.storage.database.execute_sql(query).fetchall()]
        self.storage.close()
        return pids

    def database_version(self) -> str:
        if not self.storage.url.startswith("postgres"):
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL), local file"
        row = self.storage.database.execute_sql("SHOW server_version").fetchone()
        self.storage.close()
        return f"PostgreSQL {row[0]} on loopback"


def prepare(url: str, issuer: str, oidc_core: Path, env: dict[str, str]) -> Fixture:
    """Schema, keys (RS256 by ``oidc-core init``, then ES256), clients, user, consent, session.

    A PostgreSQL database is emptied first (its ``public`` schema dropped), as the test
    suite does: every run starts from the same empty tables."""
    if url.startswith("postgres"):
        empty = Storage(url)
        empty.database.execute_sql("DROP SCHEMA public CASCADE")
        empty.database.execute_sql("CREATE SCHEMA public")
        empty.database.commit()
        empty.close()
    subprocess.run([str(oidc_core), "init"], env=env, check=True, timeout=120)
    storage = Storage(url)
    settings = Settings(issuer=issuer, database_url=url)
    create_key_if_missing(storage, "ES256")
    clients = {}
    for alg in ("RS256", "ES256"):
        fields = ClientFields(
            name=f"bench {alg}",
            redirect_uris=(REDIRECT_URI,),
            allowed_scopes=" ".join(SCOPES),
            grant_types=("authorization_code", "refresh_token"),
            id_token_signed_response_alg=alg,
        )
        record, secret = storage.clients.create(fields)
        basic = base64.b64encode(f"{record.client_id}:{secret}".encode()).decode()
        clients[alg] = Client(record.id, record.client_id, "Basic " + basic)
    password = secrets.token_urlsafe(16)
    email = f"bench-{secrets.token_hex(6)}@example.com"
    user = storage.users.create(
        email,
        PasswordService(settings).hash(password),
        name="Bench User",
        email_verified=True,
    )
    fixture = Fixture(storage, settings, clients, user.id, email, password, "")
    for client in clients.values():  # the user's consent, remembered as /consent does
        new = fixture._new_code(client, SCOPES)
        storage.grants.issue_code(None, new, remember_scopes=True)
    _, session = storage.sessions.create(settings.session_ttl)
    key = storage.sessions.log_in(
        session.id, user.id, settings.session_ttl, user_agent="wrk", ip_address="127.0.0.1"
    )
    fixture.session_cookie = f"{settings.session_cookie_name}={key}"
    storage.close()
    return fixture
