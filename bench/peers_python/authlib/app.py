"""Flask + Authlib's authorization server as a peer of bench/run.py (scenarios 1-2, userinfo).

    ISSUER=http://127.0.0.1:PORT CLIENT_SECRET=... REDIRECT_URI=... PEER_WORK=DIR \
        gunicorn --preload --workers 2 app:app

Authlib's OpenID Connect code grant (``authlib.oidc.core.grants.OpenIDCode`` on its
``AuthorizationCodeGrant``, PKCE through ``CodeChallenge``), its SQLAlchemy mixins for the
client, the codes and the tokens; SQLite in PEER_WORK by default, PostgreSQL with
``DATABASE_URL=postgresql+psycopg://...``.  An RSA 2048 key (RS256) is made at start-up, with
the tables, one confidential client (client_secret_basic) and one user (``--preload``: once,
before gunicorn forks its workers).

Bench-only routes, outside the provider: ``POST /login`` (the user's password, a signed
session cookie) and ``GET /bench/codes?n=N`` (N codes issued to the bench user, one a line,
PKCE verifier ``BENCH_VERIFIER``), as node's peer does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from pathlib import Path
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.integrations.sqla_oauth2 import (
    OAuth2AuthorizationCodeMixin,
    OAuth2ClientMixin,
    OAuth2TokenMixin,
    create_bearer_token_validator,
    create_query_client_func,
    create_save_token_func,
)
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request, session
from flask_sqlalchemy import SQLAlchemy
from joserfc.jwk import RSAKey
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.security import check_password_hash, generate_password_hash

ISSUER = os.environ["ISSUER"]
CLIENT_ID = "bench-rs256"
CLIENT_SECRET = os.environ["CLIENT_SECRET"]
REDIRECT_URI = os.environ["REDIRECT_URI"]
USER, PASSWORD = "bench-user", os.environ.get("BENCH_PASSWORD", "bench-password")
BENCH_VERIFIER = "bench-verifier-" + "x" * 40
SCOPE = "openid profile email"
WORK = Path(os.environ.get("PEER_WORK", "."))

app = Flask(__name__)
app.secret_key = secrets.token_bytes(32)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
    "DATABASE_URL", f"sqlite:///{WORK.resolve()}/authlib-peer.db"
)
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {}}
if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
    app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] = {"timeout": 20}
# Authlib's Flask server issues refresh tokens only with a generator configured.
app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
db = SQLAlchemy(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection: Any, record: Any) -> None:
    """As oidc-core's SQLite: WAL, synchronous=NORMAL."""
    if type(connection).__module__ == "sqlite3":
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class User(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), unique=True, nullable=False)
    password_hash = db.Column(db.String(200), nullable=False)
    email = db.Column(db.String(120), nullable=False)

    def get_user_id(self) -> int:
        return int(self.id)


class Client(db.Model, OAuth2ClientMixin):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)


class AuthorizationCode(db.Model, OAuth2AuthorizationCodeMixin):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    user = db.relationship("User")


class Token(db.Model, OAuth2TokenMixin):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    user = db.relationship("User")


KEY_FILE = WORK / "authlib-peer-key.pem"


def _private_key() -> RSAKey:
    if not KEY_FILE.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        KEY_FILE.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return RSAKey.import_key(KEY_FILE.read_bytes(), {"kid": "rs256", "use": "sig", "alg": "RS256"})


KEY = _private_key()


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code: str, request: Any) -> AuthorizationCode:
        row = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope,
            user_id=request.user.id,
            nonce=request.payload.data.get("nonce"),
            code_challenge=request.payload.data.get("code_challenge"),
            code_challenge_method=request.payload.data.get("code_challenge_method"),
        )
        db.session.add(row)
        db.session.commit()
        return row

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        row = AuthorizationCode.query.filter_by(code=code, client_id=client.client_id).first()
        if row is not None and not row.is_expired():
            return row
        return None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        db.session.delete(authorization_code)
        db.session.commit()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        return db.session.get(User, authorization_code.user_id)


def user_info(user: User, scope: str) -> UserInfo:
    info = UserInfo(sub=str(user.id))
    if "profile" in scope:
        info["name"] = "Bench User"
        info["preferred_username"] = user.username
    if "email" in scope:
        info["email"] = user.email
        info["email_verified"] = True
    return info


class OpenIDCodeRS256(OpenIDCode):
    def exists_nonce(self, nonce: str, request: Any) -> bool:
        row = AuthorizationCode.query.filter_by(
            client_id=request.payload.client_id, nonce=nonce
        ).first()
        return row is not None

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return KEY

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": "rs256"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": ISSUER, "aud": [client.client_id], "exp": int(time.time()) + 3600}

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return user_info(user, scope)


server = AuthorizationServer(
    app,
    query_client=create_query_client_func(db.session, Client),
    save_token=create_save_token_func(db.session, Token),
)
server.register_grant(
    AuthorizationCodeGrant, [CodeChallenge(required=True), OpenIDCodeRS256(require_nonce=False)]
)
require_oauth = ResourceProtector()
require_oauth.register_token_validator(create_bearer_token_validator(db.session, Token)())


def bench_user() -> User:
    user: User = User.query.filter_by(username=USER).one()
    return user


@app.post("/login")
def login() -> Any:
    user = User.query.filter_by(username=request.form.get("username", "")).first()
    if user is None or not check_password_hash(
        user.password_hash, request.form.get("password", "")
    ):
        return "wrong credentials", 401
    session["user_id"] = user.id
    return "", 204


@app.get("/authorize")
def authorize() -> Any:
    user = db.session.get(User, session["user_id"]) if "user_id" in session else None
    if user is None:
        return "sign in first (POST /login)", 401
    # Consent is implied: the bench client is the operator's own.
    return server.create_authorization_response(grant_user=user)


@app.post("/token")
def token() -> Any:
    return server.create_token_response()


@app.get("/userinfo")
@require_oauth("openid")
def userinfo() -> Any:
    return jsonify(user_info(current_token.user, current_token.scope))


@app.get("/jwks")
def jwks() -> Any:
    return jsonify({"keys": [KEY.as_dict(private=False)]})


@app.get("/.well-known/openid-configuration")
def discovery() -> Any:
    return jsonify(
        {
            "issuer": ISSUER,
            "authorization_endpoint": ISSUER + "/authorize",
            "token_endpoint": ISSUER + "/token",
            "userinfo_endpoint": ISSUER + "/userinfo",
            "jwks_uri": ISSUER + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }
    )


@app.get("/bench/codes")
def bench_codes() -> Any:
    """N codes of the bench user with PKCE challenge of BENCH_VERIFIER, as /authorize
    would save them."""
    count = int(request.args.get("n", "1"))
    user = bench_user()
    challenge = s256(BENCH_VERIFIER)
    codes = [secrets.token_urlsafe(36) for _ in range(count)]
    db.session.add_all(
        AuthorizationCode(
            code=code, client_id=CLIENT_ID, redirect_uri=REDIRECT_URI, scope=SCOPE,
            user_id=user.id, nonce="bench-nonce", code_challenge=challenge,
            code_challenge_method="S256", auth_time=int(time.time()),
        )
        for code in codes
    )  # fmt: skip
    db.session.commit()
    return "\n".join(codes) + "\n", 200, {"Content-Type": "text/plain"}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def set_up() -> None:
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(
            User(
                username=USER,
                password_hash=generate_password_hash(PASSWORD),
                email="bench@example.test",
            )
        )
        client = Client(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            client_id_issued_at=int(time.time()),
        )
        client.set_client_metadata(
            {
                "client_name": "bench",
                "redirect_uris": [REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "scope": SCOPE,
                "token_endpoint_auth_method": "client_secret_basic",
            }
        )
        db.session.add(client)
        db.session.commit()
        db.engine.dispose()  # no connection shared by the forked workers


set_up()
