"""What each adapter promises beyond the flow tests (which run under every mount).

The host applications of ``tests/support/hosts.py`` echo every request they get, so these
tests see exactly what reached the host and what reached the provider.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import bottle
import jwt
import pytest
import webtest
from oidc_adapters import mount_prefix
from oidc_adapters.bottle import mount
from oidc_adapters.pyramid import provider_of
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError
from pyramid.request import Request as PyramidRequest

from oidc_core import ConfigurationError, Settings
from oidc_core.storage import Storage
from oidc_core.storage.db import database_proxy
from tests.conftest import FAST_PASSWORDS, make_client, make_user
from tests.support.flow import Flow, hidden
from tests.support.mounts import Mount, MountedApp, build, settings_for

HOSTED = ("middleware", "pyramid", "bottle")


@pytest.fixture(scope="module", params=HOSTED)
def hosted(request: pytest.FixtureRequest, database_url: str, storage: Storage) -> Mount:
    name = request.param
    return build(name, settings_for(name, database_url, **FAST_PASSWORDS), storage)


@pytest.fixture
def browser(hosted: Mount, storage: Storage) -> MountedApp:
    # ``storage`` in the signature: the database is emptied before and checked after.
    return hosted.browser()


# -- the prefix: one check for every adapter ----------------------------------------------------


def test_the_prefix_is_the_issuers_path_unless_given() -> None:
    settings = Settings(issuer="https://www.example.com/app/oidc")
    assert mount_prefix(settings) == "/app/oidc"
    assert mount_prefix(settings, "/app/oidc/") == "/app/oidc"
    assert mount_prefix(settings, "/oidc") == "/oidc"  # the host itself is mounted at /app


@pytest.mark.parametrize(
    ("issuer", "prefix", "message"),
    [
        ("https://www.example.com/oidc", "/sso", "'/sso' disagrees with the issuer"),
        ("https://www.example.com/xoidc", "/oidc", "'/oidc' disagrees with the issuer"),
        ("https://www.example.com/oidc", "oidc", "must be /segment"),
        ("https://www.example.com/oidc", "/o idc", "must be /segment"),
        ("https://www.example.com/oidc", "/", "cannot take over '/'"),
        ("https://www.example.com", None, "has no path to mount the provider at"),
    ],
)
def test_a_prefix_that_disagrees_with_the_issuer_is_refused(
    issuer: str, prefix: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        mount_prefix(Settings(issuer=issuer), prefix)


# -- the host keeps its own requests -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/echo/x", "/oidcx", "/oidcx/authorize", "/x/oidc/authorize", "/OIDC/jwks", "/jwks"],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_requests_outside_the_prefix_reach_the_host_untouched(
    browser: MountedApp, hosted: Mount, path: str, method: str
) -> None:
    body = b"a=1&b=%C3%A9" if method == "POST" else b""
    response = browser.request(
        "https://op.example" + path + "?q=1",
        method=method,
        body=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_int == 200
    assert response.json == {
        "host": {"middleware": "wsgi"}.get(hosted.name, hosted.name),
        "method": method,
        "script_name": "",
        "path": path,
        "query": "q=1",
        "body": body.decode("latin-1"),
    }


@pytest.mark.parametrize("path", ["/oidc", "/oidc/", "/oidc/jwks", "/oidc/nothing-here"])
def test_requests_under_the_prefix_reach_the_provider(browser: MountedApp, path: str) -> None:
    response = browser.get("https://op.example" + path, expect_errors=True)
    assert '"host"' not in response.text
    if path == "/oidc/jwks":
        assert response.json["keys"]
    if path.endswith("nothing-here"):
        assert response.status_int == 404 and "nothing at this address" in response.text


@pytest.mark.parametrize("name", ["middleware", "bottle"])
def test_a_path_that_is_not_exactly_the_providers_is_not_served(
    name: str, database_url: str, storage: Storage
) -> None:
    """Bottle decodes the path for its router, dropping bytes that are not UTF-8; the
    provider must see the path as sent (here not ``/jwks``) and say it has nothing there."""
    mounted = build(name, settings_for(name, database_url, **FAST_PASSWORDS), storage)
    response = mounted.browser().get("/jw%FFks", expect_errors=True)
    assert response.status_int == 404
    assert "keys" not in response.text


# -- Pyramid -------------------------------------------------------------------------------------


def _pyramid(database_url: str, **extra: str) -> Configurator:
    config = Configurator(
        settings={
            "oidc.issuer": "https://op.example/oidc",
            "oidc.database_url": database_url,
            "oidc.password_time_cost": "1",
            "oidc.password_memory_cost": "1024",
            "pyramid.reload_templates": "false",  # another package's settings are ignored
            **extra,
        }
    )
    return config


def test_pyramid_host_csrf_policy_stays_for_its_views_not_the_providers(
    database_url: str, storage: Storage
) -> None:
    app = build("pyramid", settings_for("pyramid", database_url, **FAST_PASSWORDS), storage)
    browser = app.browser()
    assert browser.post("https://op.example/form", {"x": "1"}, expect_errors=True).status_int == 400
    token = browser.post("/token", {"grant_type": "authorization_code"}, expect_errors=True)
    assert token.status_int in (400, 401)
    assert token.content_type == "application/json"  # the provider's answer, not Pyramid's


@pytest.mark.parametrize(
    "directive", ["set_oidc_account_source", "set_oidc_host_login", "set_oidc_client_access"]
)
def test_pyramid_directive_set_twice_is_a_conflict(database_url: str, directive: str) -> None:
    config = _pyramid(database_url)
    config.include("oidc_adapters.pyramid")
    getattr(config, directive)(lambda *args: None)
    getattr(config, directive)(lambda *args: None)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_pyramid_unknown_oidc_setting_stops_the_include(database_url: str) -> None:
    config = _pyramid(database_url, **{"oidc.isuer": "https://op.example/oidc"})
    with pytest.raises(ConfigurationError, match=r"oidc\.isuer: unknown setting"):
        config.include("oidc_adapters.pyramid")


def test_pyramid_route_prefix_must_agree_with_the_issuer(database_url: str) -> None:
    with pytest.raises(ValueError, match="'/sso' disagrees with the issuer"):
        _pyramid(database_url).include("oidc_adapters.pyramid", route_prefix="/sso")


def test_pyramid_host_login_gets_the_pyramid_request_whatever_the_order(
    database_url: str, storage: Storage
) -> None:
    """The directive comes after the routes and views: the provider, built at commit, has it."""
    seen: list[Any] = []

    def signed_in(request: Any) -> Any:
        seen.append(request)
        email = request.headers.get("X-Host-User")
        user = storage.users.by_email(email) if email else None
        return provider_of(request.registry).accounts.source.by_login(email) if user else None

    config = _pyramid(database_url)
    config.include("oidc_adapters.pyramid", route_prefix="/oidc")
    config.add_route("home", "/")
    config.set_oidc_storage(storage)
    config.set_oidc_host_login(signed_in)
    app = config.make_wsgi_app()
    provider = provider_of(app.registry)
    client = make_client(storage, "Client A", ["https://rp.example/cb"])
    alice = make_user(provider, "alice@example.com", "alice's password")

    browser = webtest.TestApp(
        app,
        extra_environ={
            "wsgi.url_scheme": "https",
            "HTTP_HOST": "op.example",
            "HTTP_X_HOST_USER": alice.email,
        },
    )
    flow = Flow(browser, client, alice)
    start = flow.app.get("/oidc/authorize?" + _query(flow), expect_errors=True)
    assert start.status_int == 303
    assert start.headers["Location"].startswith("https://op.example/oidc/consent?")  # no login
    assert seen and all(isinstance(request, PyramidRequest) for request in seen)
    page = browser.get(start.headers["Location"])
    consent = browser.post(
        "/oidc/consent",
        {
            "interaction": hidden(page, "interaction"),
            "csrf_token": hidden(page, "csrf_token"),
            "decision": "allow",
        },
    )
    code = dict(p.split("=", 1) for p in consent.headers["Location"].split("?")[1].split("&"))
    tokens = browser.post(
        "/oidc/token",
        {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": _CB},
        headers={"Authorization": _basic(client.client_id, client.client_secret)},
    ).json
    claims = _verify(browser, tokens["id_token"], client.client_id)
    assert claims["sub"] == alice.subject


_CB = "https://rp.example/cb"


def _query(flow: Flow) -> str:
    return urlencode(flow.authorize_params(redirect_uri=_CB))


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _verify(browser: webtest.TestApp, id_token: str, audience: str) -> dict[str, Any]:
    jwks = browser.get("/oidc/jwks").json
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims: dict[str, Any] = jwt.decode(
        id_token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=audience,
        issuer="https://op.example/oidc",
    )  # fmt: skip
    return claims


# -- Bottle --------------------------------------------------------------------------------------


@pytest.fixture
def rebind(storage: Storage) -> Iterator[None]:
    """A provider built from configuration opens its own storage: give the suite its own back."""
    yield
    database_proxy.initialize(storage.database)


def test_bottle_mount_reads_the_oidc_keys_of_app_config(
    database_url: str, storage: Storage, rebind: None
) -> None:
    app = bottle.Bottle()
    app.config.update(
        {
            "oidc.issuer": "https://op.example/sso",
            "oidc.database_url": database_url,
            "oidc.password_time_cost": "1",
            "other.setting": "ignored",
        }
    )
    provider = mount(app)
    assert provider.settings.issuer == "https://op.example/sso"
    assert provider.settings.password_time_cost == 1
    browser = webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https"})
    discovery = browser.get("/sso/.well-known/openid-configuration").json
    assert discovery["issuer"] == "https://op.example/sso"
    assert discovery["token_endpoint"] == "https://op.example/sso/token"
    provider.storage.close()


def test_pyramid_client_access_reaches_the_provider(database_url: str, storage: Storage) -> None:
    """``set_oidc_client_access``: the provider built at commit asks the host's rule."""

    def nobody_may(account: Any, client: Any) -> bool:
        return False

    config = _pyramid(database_url)
    config.include("oidc_adapters.pyramid", route_prefix="/oidc")
    config.set_oidc_storage(storage)
    config.set_oidc_client_access(nobody_may)
    app = config.make_wsgi_app()
    provider = provider_of(app.registry)
    assert provider.accounts.client_access is nobody_may
    client = make_client(storage, "Client A", ["https://rp.example/cb"])
    alice = make_user(provider, "alice@example.com", "alice's password")
    browser = webtest.TestApp(
        app, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )
    flow = Flow(browser, client, alice)
    start = browser.get("/oidc/authorize?" + _query(flow), expect_errors=True)
    page = browser.get(start.headers["Location"])
    login = browser.post(
        "/oidc/login",
        {
            "interaction": hidden(page, "interaction"),
            "csrf_token": hidden(page, "csrf_token"),
            "email": alice.email,
            "password": alice.password,
        },
    )
    consent = browser.get(login.headers["Location"])
    answer = browser.post(
        "/oidc/consent",
        {
            "interaction": hidden(consent, "interaction"),
            "csrf_token": hidden(consent, "csrf_token"),
            "decision": "allow",
        },
    )
    assert answer.headers["Location"].startswith("https://rp.example/cb?error=access_denied&")
