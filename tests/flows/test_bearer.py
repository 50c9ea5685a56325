"""Protecting a host's API with the provider's access tokens (RFC 6750, oidc_core.bearer).

The host mounts the provider under ``/oidc`` and protects ``/api`` with the middleware;
tokens come from the real flow (``oidc_core.testing.run_code_flow``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import webtest
from webob import Request, Response

from oidc_core import Provider, Settings
from oidc_core.bearer import BearerError, BearerMiddleware, TokenInfo, require_token
from oidc_core.storage import Storage
from oidc_core.testing import EndUser, RelyingParty, create_user, register_client, run_code_flow
from tests.conftest import make_client
from tests.support.tokens import basic

HOST_ISSUER = "https://host.example/oidc"
REALM = f'Bearer realm="{HOST_ISSUER}"'

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def host_app(provider: Provider, seen: list[TokenInfo], scopes: tuple[str, ...]) -> WSGIApp:
    """A host: the provider under /oidc, a protected API under /api, public pages elsewhere."""

    def inner(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path_info == "/oidc" or request.path_info.startswith("/oidc/"):
            request.path_info_pop()
            return provider(environ, start_response)
        if request.path_info.startswith("/api/"):
            info = environ["oidc.token"]
            seen.append(info)
            response = Response(json={"hello": info.subject})
        else:
            response = Response(f"public {request.path_info}")
        return response(environ, start_response)  # type: ignore[no-any-return]

    return BearerMiddleware(inner, provider, required_scopes=scopes, paths=["/api"])


@pytest.fixture
def host_provider(settings: Settings, storage: Storage) -> Provider:
    return Provider(dataclasses.replace(settings, issuer=HOST_ISSUER), storage=storage)


@pytest.fixture
def seen() -> list[TokenInfo]:
    return []


@pytest.fixture
def host(host_provider: Provider, seen: list[TokenInfo]) -> webtest.TestApp:
    return webtest.TestApp(
        host_app(host_provider, seen, ("email",)),
        extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "host.example"},
    )


@pytest.fixture
def rp(host_provider: Provider) -> RelyingParty:
    return register_client(host_provider)


@pytest.fixture
def user(host_provider: Provider) -> EndUser:
    return create_user(host_provider)


@pytest.fixture
def token(host: webtest.TestApp, rp: RelyingParty, user: EndUser) -> str:
    return run_code_flow(host, rp, user, scopes=("openid", "email")).access_token


def call(host: webtest.TestApp, authorization: str | None, path: str = "/api/me") -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return host.get(path, headers=headers, expect_errors=True)


def assert_error(response: Any, status: int, error: str) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.json["error"] == error
    assert response.json["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(REALM + f', error="{error}", error_description="')


def test_valid_token_reaches_the_host_with_its_token_info(
    host: webtest.TestApp, token: str, rp: RelyingParty, user: EndUser, seen: list[TokenInfo]
) -> None:
    response = call(host, f"Bearer {token}")
    assert response.status_int == 200, response.text
    assert response.json == {"hello": user.subject}
    (info,) = seen
    assert info.subject == user.subject
    assert info.scopes == frozenset({"openid", "email"})
    assert info.client_id == rp.client_id
    assert time.time() < info.expires_at <= time.time() + 3600
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.subject = "someone else"  # type: ignore[misc]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer  "])
def test_scheme_is_case_insensitive_and_spaces_may_repeat(
    host: webtest.TestApp, token: str, scheme: str
) -> None:
    assert call(host, f"{scheme} {token}").status_int == 200


@pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Digest x=1"])
def test_no_bearer_credentials_is_401_with_a_bare_challenge(
    host: webtest.TestApp, seen: list[TokenInfo], authorization: str | None
) -> None:
    response = call(host, authorization)
    assert response.status_int == 401
    assert response.headers["WWW-Authenticate"] == REALM  # RFC 6750 3.1: no error attribute
    assert response.headers["Cache-Control"] == "no-store"
    assert response.body == b""
    assert seen == []


@pytest.mark.parametrize(
    "authorization", ["Bearer", "Bearer ", "Bearer a b", "Bearer tok,en", "Bearer a=b", "Bearer ü"]
)
def test_malformed_bearer_header_is_400_invalid_request(
    host: webtest.TestApp, seen: list[TokenInfo], authorization: str
) -> None:
    assert_error(call(host, authorization), 400, "invalid_request")
    assert seen == []


def test_unknown_token_is_401_invalid_token(host: webtest.TestApp, token: str) -> None:
    assert_error(call(host, "Bearer " + token[:-1]), 401, "invalid_token")
    assert_error(call(host, "Bearer unknown-token"), 401, "invalid_token")


def test_overlong_token_is_401_invalid_token(host: webtest.TestApp) -> None:
    assert_error(call(host, "Bearer " + "a" * 5000), 401, "invalid_token")


def test_expired_token_is_refused_as_at_userinfo(
    host: webtest.TestApp, token: str, storage: Storage
) -> None:
    assert call(host, f"Bearer {token}").status_int == 200
    past = int(time.time()) - 1
    storage.database.execute_sql(f"UPDATE oidc_access_token SET expires_at = {past}")
    assert_error(call(host, f"Bearer {token}"), 401, "invalid_token")
    assert call(host, f"Bearer {token}", "/oidc/userinfo").status_int == 401


def test_revoked_token_is_401_invalid_token(
    host: webtest.TestApp, token: str, storage: Storage
) -> None:
    storage.database.execute_sql(f"UPDATE oidc_access_token SET revoked_at = {int(time.time())}")
    assert_error(call(host, f"Bearer {token}"), 401, "invalid_token")


def test_token_of_a_deleted_client_is_401_invalid_token(
    host: webtest.TestApp, token: str, rp: RelyingParty, storage: Storage
) -> None:
    assert storage.clients.delete(rp.client_id)
    assert_error(call(host, f"Bearer {token}"), 401, "invalid_token")


def test_missing_scope_is_403_insufficient_scope_naming_the_scopes(
    host_provider: Provider, rp: RelyingParty, user: EndUser, seen: list[TokenInfo]
) -> None:
    app = webtest.TestApp(
        host_app(host_provider, seen, ("email", "profile")),
        extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "host.example"},
    )
    token = run_code_flow(app, rp, user, scopes=("openid", "email")).access_token
    response = call(app, f"Bearer {token}")
    assert_error(response, 403, "insufficient_scope")
    assert response.headers["WWW-Authenticate"].endswith(', scope="email profile"')
    assert seen == []


@pytest.mark.parametrize("with_header", [False, True])
def test_token_in_the_query_string_is_refused(
    host: webtest.TestApp, token: str, seen: list[TokenInfo], with_header: bool
) -> None:
    header = f"Bearer {token}" if with_header else None
    response = call(host, header, f"/api/me?access_token={token}")
    assert_error(response, 400, "invalid_request")
    assert seen == []


@pytest.mark.parametrize("path", ["/", "/apix", "/about?access_token=x", "/oidc/jwks"])
def test_paths_outside_the_protected_ones_are_untouched(host: webtest.TestApp, path: str) -> None:
    response = host.get(path, headers={"Authorization": "Bearer nonsense"})
    assert response.status_int == 200
    assert "WWW-Authenticate" not in response.headers


def test_without_paths_everything_is_protected(host_provider: Provider) -> None:
    app = webtest.TestApp(BearerMiddleware(lambda e, s: [b""], host_provider))
    assert app.get("/anything", expect_errors=True).status_int == 401


# -- the function for views (Pyramid: a WebOb request; Bottle: request.environ) -------------------


def test_require_token_with_a_webob_request_and_with_an_environ(
    host_provider: Provider, token: str, user: EndUser
) -> None:
    request = Request.blank("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert require_token(host_provider, request, scopes=["email"]).subject == user.subject
    environ = Request.blank("/x", headers={"Authorization": f"Bearer {token}"}).environ
    assert require_token(host_provider, environ).subject == user.subject


def test_require_token_raises_the_rfc_6750_error(host_provider: Provider, token: str) -> None:
    request = Request.blank("/", headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(BearerError) as caught:
        require_token(host_provider, request, scopes=["profile"])
    error = caught.value
    assert (error.status, error.error, error.scope) == (403, "insufficient_scope", ("profile",))
    response = error.response("api")
    assert response.status_int == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="the access token lacks a required scope", scope="profile"'
    )
    with pytest.raises(BearerError) as caught:
        require_token(host_provider, Request.blank("/"))
    assert caught.value.error is None
    assert caught.value.response("api").headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("scopes", "realm", "exception"),
    [("email", None, TypeError), (['a"b'], None, ValueError), ((), 'x"y', ValueError)],
)
def test_bad_configuration_fails_at_start_up(
    host_provider: Provider, scopes: Any, realm: str | None, exception: type[Exception]
) -> None:
    with pytest.raises(exception):
        BearerMiddleware(lambda e, s: [b""], host_provider, scopes, realm=realm)


# -- client credentials: a machine client calling the host's API (RFC 6749 section 4.4) ----------


def machine_token(host: webtest.TestApp, storage: Storage, scope: str) -> tuple[str, str]:
    """A client credentials token of a new machine client: (client_id, access token)."""
    machine = make_client(
        storage,
        "Machine",
        ["https://machine.example/cb"],
        allowed_scopes="openid email profile",
        grant_types=("authorization_code", "client_credentials"),
    )
    data = {"grant_type": "client_credentials", "scope": scope}
    response = host.post("/oidc/token", data, headers=basic(machine), expect_errors=True)
    assert response.status_int == 200, response.text
    return machine.client_id, response.json["access_token"]


def test_client_credentials_token_reaches_the_host_without_a_user(
    host: webtest.TestApp, storage: Storage, seen: list[TokenInfo]
) -> None:
    client_id, token = machine_token(host, storage, "email")
    response = call(host, f"Bearer {token}")
    assert response.status_int == 200, response.text
    assert response.json == {"hello": None}
    (info,) = seen
    assert (info.subject, info.account) == (None, None)
    assert info.client_id == client_id
    assert info.scopes == frozenset({"email"})
    # /userinfo still refuses it: there is no user to describe
    response = host.get(
        "/oidc/userinfo", headers={"Authorization": f"Bearer {token}"}, expect_errors=True
    )
    assert response.status_int == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_client_credentials_token_is_checked_like_any_other(
    host: webtest.TestApp, storage: Storage, seen: list[TokenInfo]
) -> None:
    _, token = machine_token(host, storage, "profile")
    assert_error(call(host, f"Bearer {token}"), 403, "insufficient_scope")
    storage.database.execute_sql(f"UPDATE oidc_access_token SET revoked_at = {int(time.time())}")
    assert_error(call(host, f"Bearer {token}"), 401, "invalid_token")
    assert seen == []
