"""Django settings of the django-oauth-toolkit peer (bench/peers_python/dot/).

    ISSUER=http://127.0.0.1:PORT CLIENT_SECRET=... REDIRECT_URI=... PEER_WORK=DIR \
        DJANGO_SETTINGS_MODULE=settings gunicorn --preload --workers 2 wsgi:application

SQLite in PEER_WORK by default, PostgreSQL with ``DATABASE_URL=postgresql://...``.  The RSA
2048 key of the ID tokens (RS256) is made at start-up in PEER_WORK.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

WORK = Path(os.environ.get("PEER_WORK", ".")).resolve()
KEY_FILE = WORK / "dot-peer-key.pem"
if not KEY_FILE.exists():
    KEY_FILE.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _database(url: str | None) -> dict[str, object]:
    if not url:
        # As oidc-core's SQLite: WAL, synchronous=NORMAL, a busy timeout; and BEGIN
        # IMMEDIATE, so that concurrent writers wait instead of failing.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(WORK / "dot-peer.db"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


SECRET_KEY = secrets.token_urlsafe(40)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "urls"
USE_TZ = True
DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES: list[dict[str, object]] = []
LOGIN_URL = "/login"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": KEY_FILE.read_text(),
    "OIDC_ISS_ENDPOINT": os.environ["ISSUER"] + "/o",
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "OpenID Connect", "profile": "profile", "email": "email address"},
    "OAUTH2_VALIDATOR_CLASS": "validator.BenchValidator",
}
