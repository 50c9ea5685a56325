"""Test helpers for host applications: pytest fixtures and the whole code flow via WebTest.

Opt in from the top-level ``conftest.py`` of the host's test suite::

    pytest_plugins = ["oidc_core.testing"]

The fixtures (all prefixed ``oidc_``, none autouse) give a provider on a temporary SQLite
database with a signing key, a registered client and a user; :func:`run_code_flow` drives
authorize -> login -> consent -> code -> token through the host's ``webtest.TestApp`` and
verifies the ID token with PyJWT against the published JWKS.  It needs ``WebTest`` and
``PyJWT[crypto]``.  Every URL comes from the discovery document and the redirects, so the
provider may be mounted under a prefix (an issuer like ``https://host.example/oidc``).

The storage binds one database per process: a host that builds its own
:class:`~oidc_core.Provider` overrides ``oidc_provider`` (and ``oidc_issuer``) instead of
letting the plugin build a second one.  See ``docs/testing-host-apps.md``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

from .keys import create_key_if_missing
from .provider import Provider
from .records import ClientFields
from .settings import Settings
from .storage import Storage

if TYPE_CHECKING:
    import webtest

DEFAULT_ISSUER = "https://op.example"
DEFAULT_REDIRECT_URI = "https://rp.example/callback"
DATABASE_ENV = "OIDC_TESTING_DATABASE_URL"
# Cheap argon2id parameters: a test exercises the real hasher, not its cost.
FAST_PASSWORDS = {"password_time_cost": 1, "password_memory_cost": 1024}


@dataclass(frozen=True)
class RelyingParty:
    """A registered client as its relying party knows it (the secret in clear)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class EndUser:
    """A user of the provider with a clear password."""

    email: str
    password: str
    subject: str


@dataclass(frozen=True)
class Tokens:
    """The outcome of :func:`run_code_flow`."""

    access_token: str
    id_token: str
    claims: dict[str, Any]  # the ID token's, verified
    scopes: frozenset[str]  # as granted
    refresh_token: str | None
    response: dict[str, Any]  # the token response as sent


# -- set-up helpers (usable without the fixtures) ------------------------------------------------


def prepare_database(target: Settings | Provider) -> None:
    """Create or upgrade the schema and make sure there is a signing key, on the database of
    ``settings`` before a :class:`Provider` is built on it (the provider refuses a database
    without the current schema), or on a provider's."""
    if isinstance(target, Provider):
        target.storage.upgrade()
        create_key_if_missing(target.storage)
        return
    storage = Storage(target.database_url)
    try:
        storage.upgrade()
        create_key_if_missing(storage)
    finally:
        storage.close()


def register_client(
    provider: Provider, redirect_uri: str = DEFAULT_REDIRECT_URI, **fields: Any
) -> RelyingParty:
    """Register a confidential client; ``fields`` are :class:`ClientFields` (e.g. ``name``)."""
    fields.setdefault("name", f"Test client {secrets.token_hex(3)}")
    client, secret = provider.storage.clients.create(
        ClientFields(redirect_uris=(redirect_uri,), **fields)
    )
    return RelyingParty(provider.settings.issuer, client.client_id, secret or "", redirect_uri)


def create_user(
    provider: Provider, email: str | None = None, password: str | None = None, **claims: Any
) -> EndUser:
    """Create a user (a unique email and a random password unless given)."""
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    password = password or secrets.token_urlsafe(12)
    user = provider.storage.users.create(email, provider.passwords.hash(password), **claims)
    return EndUser(email, password, user.subject)


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``code_verifier`` and its S256 ``code_challenge`` (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# -- the flow ---------------------------------------------------------------------------------


class FlowError(AssertionError):
    """The flow did not end with verified tokens; the message says where and why."""


def _call(
    app: webtest.TestApp, method: str, url: str, params: Any = None, **kwargs: Any
) -> webtest.TestResponse:
    """Request an absolute URL through ``app`` (its origin and its SCRIPT_NAME honoured)."""
    parts = urlsplit(url)
    path = parts.path
    script = app.extra_environ.get("SCRIPT_NAME", "")
    if script and (path == script or path.startswith(script + "/")):
        path = path[len(script) :]
    if parts.query:
        path += "?" + parts.query
    environ = {"wsgi.url_scheme": parts.scheme, "HTTP_HOST": parts.netloc}
    call = app.post if method == "POST" else app.get
    response: webtest.TestResponse = call(
        path, params, extra_environ=environ, expect_errors=True, **kwargs
    )
    return response


def _json(response: webtest.TestResponse, what: str) -> dict[str, Any]:
    if response.status_int != 200 or response.content_type != "application/json":
        raise FlowError(f"{what}: {response.status} {response.text[:300]}")
    data: dict[str, Any] = response.json
    return data


def _fill(page: webtest.TestResponse, user: EndUser) -> tuple[str, list[tuple[str, str]]]:
    """The action and fields of the bundled login or consent page, filled in."""
    for form in page.forms.values():
        names = set(form.fields)
        if "password" in names:
            form["email"] = user.email
            form["password"] = user.password
            return form.action, form.submit_fields()
        if "decision" in names:
            return form.action, form.submit_fields("decision", submit_value="allow")
    raise FlowError(f"not a login or consent page: {page.status} {page.text[:300]}")


def _browse(app: webtest.TestApp, url: str, client: RelyingParty, user: EndUser) -> dict[str, str]:
    """Follow the provider's redirects and pages until the client's callback; its query."""
    response = _call(app, "GET", url)
    for _ in range(6):
        if response.status_int not in (302, 303):
            raise FlowError(f"expected a redirect from {url}: {response.status}")
        url = urljoin(url, response.headers["Location"])
        joiner = "&" if "?" in client.redirect_uri else "?"
        if url.startswith(client.redirect_uri + joiner):
            return dict(parse_qsl(url[len(client.redirect_uri) + 1 :], keep_blank_values=True))
        action, fields = _fill(_call(app, "GET", url), user)
        url = urljoin(url, action or url)
        response = _call(app, "POST", url, fields)
    raise FlowError("too many redirects before the client's callback")


def run_code_flow(
    app: webtest.TestApp,
    client: RelyingParty,
    user: EndUser,
    scopes: Iterable[str] = ("openid", "profile", "email"),
    pkce: bool = True,
) -> Tokens:
    """Authorize, log in, consent, redeem the code, verify the ID token; the tokens.

    ``app`` serves the provider at ``client.issuer`` (mounted at any path of the host).
    The bundled login and consent pages are used; consent is given to every scope asked.
    """
    config = _json(
        _call(app, "GET", client.issuer + "/.well-known/openid-configuration"), "discovery"
    )
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "nonce": nonce,
    }
    verifier, challenge = pkce_pair() if pkce else (None, None)
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    query = _browse(app, config["authorization_endpoint"] + "?" + urlencode(params), client, user)
    if "code" not in query:
        raise FlowError(f"authorization failed: {query}")
    if query.get("state") != state or query.get("iss") != client.issuer:
        raise FlowError(f"callback state or iss (RFC 9207) do not match: {query}")
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "redirect_uri": client.redirect_uri,
    }
    if verifier:
        form["code_verifier"] = verifier
    basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    response = _call(
        app, "POST", config["token_endpoint"], form, headers={"Authorization": "Basic " + basic}
    )
    body = _json(response, "token request")
    jwks = _json(_call(app, "GET", config["jwks_uri"]), "JWKS")
    claims = verify_id_token(jwks, body["id_token"], client)
    if claims.get("nonce") != nonce:
        raise FlowError("the ID token's nonce is not the one sent")
    return Tokens(
        access_token=body["access_token"],
        id_token=body["id_token"],
        claims=claims,
        scopes=frozenset(body.get("scope", " ".join(scopes)).split()),
        refresh_token=body.get("refresh_token"),
        response=body,
    )


def verify_id_token(jwks: dict[str, Any], id_token: str, client: RelyingParty) -> dict[str, Any]:
    """Verify an ID token with PyJWT (not our own JOSE code) against a JWK Set."""
    import jwt  # PyJWT: an independent implementation

    header = jwt.get_unverified_header(id_token)
    keys = [key for key in jwks["keys"] if key.get("kid") == header.get("kid")]
    if len(keys) != 1:
        raise FlowError(f"no single key in the JWKS for kid {header.get('kid')!r}")
    claims: dict[str, Any] = jwt.decode(
        id_token,
        jwt.PyJWK(keys[0]).key,
        algorithms=["RS256", "ES256"],
        audience=client.client_id,
        issuer=client.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat"]},
    )
    return claims


# -- the pytest plugin ----------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--oidc-database-url",
        default=None,
        help=f"database for the oidc_provider fixture (also ${DATABASE_ENV}); "
        "default: a temporary SQLite file",
    )


@pytest.fixture(scope="session")
def oidc_issuer() -> str:
    """The issuer of ``oidc_provider``; override it to where the host mounts the provider."""
    return DEFAULT_ISSUER


@pytest.fixture(scope="session")
def oidc_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    url = request.config.getoption("oidc_database_url", None) or os.environ.get(DATABASE_ENV)
    if url:
        return str(url)
    return f"sqlite:///{tmp_path_factory.mktemp('oidc') / 'provider.db'}"


@pytest.fixture(scope="session")
def oidc_settings(oidc_issuer: str, oidc_database_url: str) -> Settings:
    return Settings(issuer=oidc_issuer, database_url=oidc_database_url, **FAST_PASSWORDS)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def oidc_provider(oidc_settings: Settings) -> Iterator[Provider]:
    """A provider with its schema and a signing key (one per test session)."""
    prepare_database(oidc_settings)
    provider = Provider(oidc_settings)
    yield provider
    provider.storage.close()


@pytest.fixture
def oidc_client(oidc_provider: Provider) -> RelyingParty:
    """A new confidential client with one redirect URI, ``https://rp.example/callback``."""
    return register_client(oidc_provider)


@pytest.fixture
def oidc_user(oidc_provider: Provider) -> EndUser:
    """A new user with a unique email and a random password."""
    return create_user(oidc_provider, name="Test User", email_verified=True)


__all__ = [
    "EndUser",
    "FlowError",
    "RelyingParty",
    "Tokens",
    "create_user",
    "pkce_pair",
    "prepare_database",
    "register_client",
    "run_code_flow",
    "verify_id_token",
]
