"""The floor under the token endpoint: the least any token endpoint on this stack can cost.

``/token-floor`` on the hello-world server (bench/hello.py) redeems the fixture's codes in
the provider's own database, with the work the protocol and the design cannot do without,
and nothing else:

* the form and the Basic credentials parsed by the standard library;
* the client read by its id and its secret's SHA-256 compared in constant time;
* the code read by its digest, joined with its user, and checked (client, redirect URI,
  expiry, not used);
* one write transaction (``BEGIN IMMEDIATE`` on SQLite): the code marked used by a
  conditional UPDATE, the access and refresh tokens' digests inserted; COMMIT;
* an RS256 ID token signed with ``cryptography`` directly, and the JSON answer.

No WebOb, no oauthlib, no request id, access line, metrics or sign-in throttle, no query
builder: prebuilt SQL on a DB-API connection kept by the worker.  It answers errors with a
bare 400, which the benchmark never sends it.  Its CPU per request, measured in the same
rounds as the provider's, is what a target for the token endpoint can be read against
(bench/README.md, "The targets we miss, and why").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ACCESS_TTL, REFRESH_TTL, ID_TOKEN_TTL = 3600, 30 * 86400, 3600

CLIENT = "SELECT id, secret_digest FROM oidc_client WHERE client_id = ?"
CODE = (
    "SELECT c.id, c.client_id, c.redirect_uri, c.scopes, c.nonce, c.auth_time,"
    " c.expires_at, c.used_at, c.amr, c.acr, u.id, u.subject"
    " FROM oidc_authorization_code c JOIN oidc_user u ON u.id = c.user_id"
    " WHERE c.code_digest = ?"
)
CONSUME = "UPDATE oidc_authorization_code SET used_at = ? WHERE id = ? AND used_at IS NULL"
INSERT_ACCESS = (
    "INSERT INTO oidc_access_token (token_digest, client_id, user_id, code_id, scopes,"
    " created_at, expires_at, grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_REFRESH = (
    "INSERT INTO oidc_refresh_token (token_digest, client_id, user_id, grant_id, scopes,"
    " auth_time, created_at, expires_at, absolute_expires_at, amr, acr)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Floor:
    """One worker thread's connection and signing key (opened at its first request)."""

    def __init__(self, url: str, issuer: str) -> None:
        self.issuer = issuer
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.header = _b64(b'{"alg":"RS256","kid":"floor","typ":"JWT"}')
        if url.startswith("sqlite:"):
            import sqlite3

            self.db: Any = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            for pragma in ("journal_mode=wal", "foreign_keys=1", "busy_timeout=5000"):
                self.db.execute(f"PRAGMA {pragma}")
            self.db.execute("PRAGMA synchronous=normal")
            self.begin, self.marker = "BEGIN IMMEDIATE", "?"
        else:
            import psycopg

            self.db = psycopg.connect(url, autocommit=True)
            self.begin, self.marker = "BEGIN", "%s"

    def sql(self, statement: str) -> str:
        return statement.replace("?", self.marker)

    def one(self, statement: str, params: tuple[Any, ...]) -> Any:
        return self.db.execute(self.sql(statement), params).fetchone()

    def token(self, authorization: str, body: bytes) -> bytes | None:
        form = dict(parse_qsl(body.decode()))
        scheme, _, encoded = authorization.partition(" ")
        if scheme != "Basic":
            return None
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        client = self.one(CLIENT, (client_id,))
        if client is None:
            return None
        if not hmac.compare_digest(_digest(secret), client[1]):
            return None
        code = self.one(CODE, (_digest(form.get("code", "")),))
        now = int(time.time())
        if (
            form.get("grant_type") != "authorization_code"
            or code is None
            or code[1] != client[0]
            or code[2] != form.get("redirect_uri")
            or code[6] < now
            or code[7] is not None
        ):
            return None
        (code_id, client_pk, _, scopes, nonce, auth_time, _, _, amr, acr, user_id, sub) = code
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.db.execute(self.begin)
        try:
            consumed = self.db.execute(self.sql(CONSUME), (now, code_id)).rowcount
            if consumed != 1:
                return None
            owner = (client_pk, user_id)
            expiry = now + REFRESH_TTL
            self.db.execute(
                self.sql(INSERT_ACCESS),
                (_digest(access), *owner, code_id, scopes, now, now + ACCESS_TTL, code_id),
            )
            grant = (_digest(refresh), *owner, code_id, scopes, auth_time)
            self.db.execute(self.sql(INSERT_REFRESH), (*grant, now, expiry, expiry, amr, acr))
        finally:
            self.db.execute("COMMIT")
        claims = {
            "iss": self.issuer,
            "sub": sub,
            "aud": client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
            "auth_time": auth_time,
            "nonce": nonce,
            "at_hash": _b64(hashlib.sha256(access.encode()).digest()[:16]),
        }
        signing_input = f"{self.header}.{_b64(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        answer = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL,
            "id_token": f"{signing_input}.{_b64(signature)}",
            "refresh_token": refresh,
            "scope": scopes,
        }
        return json.dumps(answer).encode()


# Per thread (gthread workers run two): a connection must not cross gunicorn's fork nor be
# shared by two threads' transactions, as the provider's connections are not.
_local = threading.local()
NO_STORE = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _floor() -> Floor:
    floor: Floor | None = getattr(_local, "floor", None)
    if floor is None:
        url, issuer = os.environ["BENCH_FLOOR_DATABASE_URL"], os.environ["BENCH_FLOOR_ISSUER"]
        floor = _local.floor = Floor(url, issuer)
    return floor


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    answer = _floor().token(environ.get("HTTP_AUTHORIZATION", ""), body)
    if answer is None:
        start_response("400 Bad Request", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [*NO_STORE, ("Content-Length", str(len(answer)))])
    return [answer]
