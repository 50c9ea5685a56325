"""Drive the authorization code flow through HTTP with WebTest, like a browser and an RP.

ID tokens are verified with PyJWT (an independent JOSE library) against the JWKS the
provider publishes, never with our own code.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import webtest

from oidc_core.testing import pkce_pair
from tests.support.mounts import MountedApp

# The issuer of a provider served at the root by a plain ``webtest.TestApp``.
ISSUER = "https://op.example"


def issuer_of(app: webtest.TestApp) -> str:
    """The issuer of the provider ``app`` talks to: its mount's, or ``ISSUER``."""
    return app.issuer if isinstance(app, MountedApp) else ISSUER


def query_of(location: str) -> dict[str, str]:
    """The query of a redirect as a dict (each parameter must appear once)."""
    parsed = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def hidden(page: webtest.TestResponse, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert match, f"no hidden field {name!r} in page"
    return match.group(1)


@dataclass
class RP:
    """A registered relying party as the tests know it (the secret is the clear one)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]


@dataclass
class Account:
    email: str
    password: str
    subject: str


@dataclass
class Flow:
    """One browser (``app`` with its cookie jar) acting for one relying party."""

    app: webtest.TestApp
    client: RP
    user: Account
    scope: str = "openid profile email"
    verifier: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def authorize_params(self, **overrides: Any) -> dict[str, str]:
        params = {
            "client_id": self.client.client_id,
            "response_type": "code",
            "scope": self.scope,
            "redirect_uri": self.client.redirect_uris[0],
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
        }
        params.update(self.extra)
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def start(self, **overrides: Any) -> webtest.TestResponse:
        """GET /authorize with the given overrides (None removes a parameter)."""
        return self.app.get(
            "/authorize?" + urlencode(self.authorize_params(**overrides)), expect_errors=True
        )

    def login(
        self, page: webtest.TestResponse, password: str | None = None
    ) -> webtest.TestResponse:
        return self.app.post(
            "/login",
            {
                "interaction": hidden(page, "interaction"),
                "csrf_token": hidden(page, "csrf_token"),
                "email": self.user.email,
                "password": self.user.password if password is None else password,
            },
            expect_errors=True,
        )

    def consent(self, page: webtest.TestResponse, decision: str = "allow") -> webtest.TestResponse:
        return self.app.post(
            "/consent",
            {
                "interaction": hidden(page, "interaction"),
                "csrf_token": hidden(page, "csrf_token"),
                "decision": decision,
            },
            expect_errors=True,
        )

    @property
    def issuer(self) -> str:
        return issuer_of(self.app)

    def authorize(self, **overrides: Any) -> dict[str, str]:
        """The whole browser part: authorize, log in and consent as needed; the callback query."""
        response = self.start(**overrides)
        for _ in range(4):
            assert response.status_int in (302, 303), (response.status, response.text[:500])
            location = response.headers["Location"]
            if not location.startswith(self.issuer + "/"):
                return query_of(location)
            page = self.app.get(location)
            if urlsplit(location).path == urlsplit(self.issuer + "/login").path:
                response = self.login(page)
            else:
                response = self.consent(page)
        raise AssertionError("too many redirects")

    def token(self, code: str, *, auth: str = "basic", **extra: str) -> webtest.TestResponse:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uris[0],
        }
        if self.verifier:
            data["code_verifier"] = self.verifier
        data.update(extra)
        data = {k: v for k, v in data.items() if v is not None}
        headers = {}
        if auth == "basic":
            creds = f"{self.client.client_id}:{self.client.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(creds).decode()
        elif auth == "post":
            data.update(client_id=self.client.client_id, client_secret=self.client.client_secret)
        return self.app.post("/token", data, headers=headers, expect_errors=True)

    def code_with_pkce(self, **overrides: Any) -> str:
        self.verifier, challenge = pkce_pair()
        return self.authorize(code_challenge=challenge, code_challenge_method="S256", **overrides)[
            "code"
        ]


def verify_id_token(
    app: webtest.TestApp, id_token: str, audience: str, **options: Any
) -> dict[str, Any]:
    """Verify signature and standard claims with PyJWT against the published JWKS."""
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256", header
    assert set(header) <= {"alg", "kid", "typ"}, header
    jwks = app.get("/jwks").json
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        id_token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer_of(app),
        options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        **options,
    )
    return claims
