"""Key-rotation helpers: saving the keys around a test, extra "workers" with their own key
cache, and a relying party that verifies ID tokens against the JWKS it fetched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import _MOUNTS, FAST_PASSWORDS
from tests.support.admin_api import api_token as api_token
from tests.support.flow import Flow
from tests.support.mounts import Mount, MountedApp, settings_for

KEY_COLUMNS = "kid, alg, private_pem, state, created_at, activated_at, retired_at"


@pytest.fixture(autouse=True)
def saved_keys(storage: Storage) -> Iterator[None]:
    """The signing keys as they were before the test, restored after it."""
    db = storage.database
    rows = db.execute_sql(f"SELECT {KEY_COLUMNS} FROM oidc_signing_key").fetchall()
    yield
    storage.release()
    marks = ", ".join([db.param] * 7)
    with db.atomic():
        db.execute_sql("DELETE FROM oidc_signing_key")
        for row in rows:
            db.execute_sql(f"INSERT INTO oidc_signing_key ({KEY_COLUMNS}) VALUES ({marks})", row)
    for provider in _MOUNTS:
        provider.keys.invalidate()


def worker(storage: Storage, database_url: str, **options: Any) -> MountedApp:
    """A browser on a new provider (a worker process) sharing the suite's database."""
    settings = settings_for("standalone", database_url, **{**FAST_PASSWORDS, **options})
    provider = Provider(settings, storage=storage)
    return Mount("standalone", "", provider, provider).browser()


def live_kids(storage: Storage, state: str, alg: str = "RS256") -> list[str]:
    return [r.kid for r in storage.keys.all() if r.state == state and r.alg == alg]


class RelyingParty:
    """Verifies ID tokens with PyJWT; refreshes its JWKS copy on an unknown kid."""

    def __init__(self, audience: str, max_age: float = 3600) -> None:
        self.audience = audience
        self.max_age = max_age  # how long it trusts its copy of the JWKS
        self.jwks: dict[str, dict[str, Any]] = {}
        self.fetched_at = 0.0

    def verify(self, app: MountedApp, id_token: str, alg: str = "RS256") -> dict[str, Any]:
        header = jwt.get_unverified_header(id_token)
        assert header["alg"] == alg and set(header) <= {"alg", "kid", "typ"}, header
        if header["kid"] not in self.jwks or time.monotonic() - self.fetched_at > self.max_age:
            self.fetched_at = time.monotonic()
            self.jwks = {key["kid"]: key for key in app.get("/jwks").json["keys"]}
        key = self.jwks.get(header["kid"])
        assert key is not None, f"kid {header['kid']} is not in the JWKS"
        claims: dict[str, Any] = jwt.decode(
            id_token,
            jwt.PyJWK(key).key,
            algorithms=[alg],
            audience=self.audience,
            issuer=app.issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
        return claims


def id_token_of(flow: Flow) -> str:
    response = flow.token(flow.code_with_pkce())
    assert response.status_int == 200, response.text
    return str(response.json["id_token"])
