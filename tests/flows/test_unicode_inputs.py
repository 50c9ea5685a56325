"""Text that is not Unicode at every entry point (SECURITY-CHECKLIST T-12, T-62; issue 14).

JSON can carry a lone UTF-16 surrogate (``"\\ud800"``): valid JSON, but no character, and
no database can store it.  A form or query can carry the percent-encoded bytes of an
invalid UTF-8 sequence (``%ED%A0%80``, a surrogate's encoding, or ``%FF``).  Every entry
point answers such input with a 4xx in its own format and the error code its
specification names, never a 5xx, and changes nothing in the database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import make_user, new_app
from tests.support import account_pages
from tests.support import admin_console as console
from tests.support.admin_api import CLIENTS, METADATA, Api, error_of, new_token
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.snapshot import database

FORM = "application/x-www-form-urlencoded"
LONE_SURROGATE = "\ud800"
# The percent-encoded bytes of invalid UTF-8: a surrogate's (CESU) encoding, a stray byte.
NOT_UTF8 = [pytest.param("%ED%A0%80", id="surrogate"), pytest.param("%FF", id="ff")]


def assert_json_error(response: webtest.TestResponse, status: int, error: str) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["error"] == error, response.json
    assert "Traceback" not in response.text


def assert_error_page(response: webtest.TestResponse, status: int = 400) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert "Traceback" not in response.text
    assert "<h1>" in response.text


# -- the management API: JSON with a lone surrogate -----------------------------------------

# Every string field of client metadata, with the RFC 7591 section 3.2.2 error it gets.
STRING_FIELDS = [
    ("client_name", LONE_SURROGATE, "invalid_client_metadata"),
    ("client_name", "Panel " + LONE_SURROGATE, "invalid_client_metadata"),
    ("description", "A " + LONE_SURROGATE + " panel", "invalid_client_metadata"),
    ("client_uri", "https://panel.example/" + LONE_SURROGATE, "invalid_client_metadata"),
    ("logo_uri", "https://panel.example/" + LONE_SURROGATE, "invalid_client_metadata"),
    ("logo_uri", "/static/" + LONE_SURROGATE + ".png", "invalid_client_metadata"),
    ("redirect_uris", ["https://panel.example/" + LONE_SURROGATE], "invalid_redirect_uri"),
    (
        "post_logout_redirect_uris",
        ["https://panel.example/" + LONE_SURROGATE],
        "invalid_client_metadata",
    ),
    (
        "backchannel_logout_uri",
        "https://panel.example/" + LONE_SURROGATE,
        "invalid_client_metadata",
    ),
    ("scope", "openid " + LONE_SURROGATE, "invalid_client_metadata"),
    ("grant_types", ["authorization_code", LONE_SURROGATE], "invalid_client_metadata"),
    ("token_endpoint_auth_method", LONE_SURROGATE, "invalid_client_metadata"),
    ("access_token_format", LONE_SURROGATE, "invalid_client_metadata"),
    ("id_token_signed_response_alg", LONE_SURROGATE, "invalid_client_metadata"),
]
STRING_IDS = [f"{field}-{i}" for i, (field, _, _) in enumerate(STRING_FIELDS)]


@pytest.fixture
def api(app: webtest.TestApp, provider: Provider) -> Api:
    return Api(app, new_token(provider)[1])


@pytest.mark.parametrize(("field", "value", "error"), STRING_FIELDS, ids=STRING_IDS)
def test_a_lone_surrogate_in_new_client_metadata_is_400_naming_the_field(
    api: Api, storage: Storage, field: str, value: Any, error: str
) -> None:
    before = database(storage)
    response = api.call("POST", CLIENTS, {**METADATA, field: value}, status=400)
    body = error_of(response)
    assert (body["error"], body["field"]) == (error, field)
    assert database(storage) == before


@pytest.mark.parametrize(("field", "value", "error"), STRING_FIELDS, ids=STRING_IDS)
def test_a_lone_surrogate_in_a_client_update_is_400_naming_the_field(
    api: Api, storage: Storage, field: str, value: Any, error: str
) -> None:
    client_id = api.create()["client_id"]
    before = database(storage)
    response = api.call("PATCH", f"{CLIENTS}/{client_id}", {field: value}, status=400)
    body = error_of(response)
    assert (body["error"], body["field"]) == (error, field)
    assert database(storage) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_lone_surrogate_as_a_json_key_is_an_unknown_field(
    api: Api, storage: Storage, method: str
) -> None:
    path = CLIENTS if method == "POST" else f"{CLIENTS}/{api.create()['client_id']}"
    before = database(storage)
    response = api.call(method, path, {**METADATA, LONE_SURROGATE: "x"}, status=400)
    body = error_of(response)
    assert body["error"] == "invalid_client_metadata"
    assert json.loads(response.body)["field"] == LONE_SURROGATE  # escaped, readable
    assert database(storage) == before


@pytest.mark.parametrize("value", NOT_UTF8)
@pytest.mark.parametrize("name", ["q", "sort"])
def test_a_list_query_that_is_not_utf8_is_400(
    api: Api, storage: Storage, name: str, value: str
) -> None:
    response = api.call("GET", f"{CLIENTS}?{name}={value}", status=400)
    assert error_of(response)["error"] == "invalid_request"


@pytest.mark.parametrize("token", ["\xed\xa0\x80", "\xff", "ab\xedcd"])
def test_an_admin_token_that_is_not_ascii_is_401_invalid_token(
    app: webtest.TestApp, storage: Storage, token: str
) -> None:
    """The header arrives as Latin-1 text; its bytes are those of invalid UTF-8."""
    before = database(storage)
    response = app.get(CLIENTS, headers={"Authorization": f"Bearer {token}"}, expect_errors=True)
    assert_json_error(response, 401, "invalid_token")
    assert database(storage) == before


# -- forms and query strings: the percent-encoded bytes of invalid UTF-8 --------------------


@dataclass
class Browsers:
    """What the entry points need: a client, a user, signed-in browsers, a pending login."""

    provider: Provider
    flow: Flow
    account: webtest.TestApp
    admin: webtest.TestApp
    login_page: webtest.TestResponse


@pytest.fixture
def browsers(provider: Provider, app: webtest.TestApp, client_a: RP, alice: Account) -> Browsers:
    make_user(provider, console.ADMIN_EMAIL, console.ADMIN_PASSWORD, is_admin=True)
    admin = new_app(provider)
    assert console.sign_in(admin, console.ADMIN_EMAIL, console.ADMIN_PASSWORD).status_int == 303
    account = account_pages.browser(provider, alice)
    flow = Flow(app, client_a, alice)
    started = flow.start()
    assert started.status_int == 303, started.text[:300]
    login_page = app.get(started.headers["Location"])
    return Browsers(provider, flow, account, admin, login_page)


Send = Callable[[str], webtest.TestResponse]  # the bad percent-encoded bytes -> the answer


def _post(app: webtest.TestApp, path: str, body: str) -> webtest.TestResponse:
    return app.post(path, body.encode("ascii"), content_type=FORM, expect_errors=True)


def _client_post(path: str, field: str) -> Callable[[Browsers], Send]:
    """A client's POST with its Basic credentials, ``field`` holding the bad bytes."""

    def prepare(b: Browsers) -> Send:
        rp = b.flow.client
        credentials = base64.b64encode(f"{rp.client_id}:{rp.client_secret}".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}"}
        return lambda bad: b.flow.app.post(
            path, f"{field}={bad}".encode(), content_type=FORM, headers=headers, expect_errors=True
        )

    return prepare


def _interaction(path: str, field: str) -> Callable[[Browsers], Send]:
    """The login or consent form of the pending request, ``field`` holding the bad bytes."""

    def prepare(b: Browsers) -> Send:
        interaction = hidden(b.login_page, "interaction")
        token = hidden(b.login_page, "csrf_token")
        body = f"interaction={interaction}&csrf_token={token}&email=a%40b&password=x"
        return lambda bad: _post(b.flow.app, path, f"{body}&{field}={bad}")

    return prepare


def _signed_in(area: str, path: str, field: str) -> Callable[[Browsers], Send]:
    """A form of the account pages or the console, with this session's CSRF token."""

    def prepare(b: Browsers) -> Send:
        app = b.account if area == "account" else b.admin
        token = account_pages.csrf(app) if area == "account" else console.token_of(app)
        return lambda bad: _post(app, path, f"csrf_token={token}&{field}={bad}")

    return prepare


def _sign_in_form(path: str) -> Callable[[Browsers], Send]:
    """The sign-in form of the account pages or the console, in a new browser."""

    def prepare(b: Browsers) -> Send:
        app = new_app(b.provider)
        token = hidden(app.get(path), "csrf_token")
        return lambda bad: _post(app, path, f"csrf_token={token}&email={bad}&password=x")

    return prepare


def _get(path: str, area: str = "") -> Callable[[Browsers], Send]:
    def prepare(b: Browsers) -> Send:
        app = {"account": b.account, "admin": b.admin}.get(area, b.flow.app)
        query = path.replace("CLIENT", b.flow.client.client_id)
        return lambda bad: app.get(query.replace("BAD", bad), expect_errors=True)

    return prepare


def _end_session_post(b: Browsers) -> Send:
    return lambda bad: _post(b.flow.app, "/end_session", f"state={bad}")


def _userinfo_post(b: Browsers) -> Send:
    return lambda bad: _post(b.flow.app, "/userinfo", f"access_token={bad}")


def _authorize_post(b: Browsers) -> Send:
    return lambda bad: _post(
        b.flow.app, "/authorize", f"client_id={b.flow.client.client_id}&state={bad}"
    )


AUTHORIZE = "/authorize?client_id=CLIENT&response_type=code&scope=openid&state=BAD"
# name -> (prepare the request, its JSON error code or None for an HTML error page)
FORM_ENTRY_POINTS: dict[str, tuple[Callable[[Browsers], Send], str | None]] = {
    "token": (_client_post("/token", "code"), "invalid_request"),
    "revoke": (_client_post("/revoke", "token"), "invalid_request"),
    "introspect": (_client_post("/introspect", "token"), "invalid_request"),
    "userinfo-body": (_userinfo_post, "invalid_request"),
    "authorize-query": (_get(AUTHORIZE), None),
    "authorize-body": (_authorize_post, None),
    "login-query": (_get("/login?interaction=BAD"), None),
    "login-body": (_interaction("/login", "email"), None),
    "consent-query": (_get("/consent?interaction=BAD"), None),
    "consent-body": (_interaction("/consent", "decision"), None),
    "end-session-query": (_get("/end_session?state=BAD"), None),
    "end-session-body": (_end_session_post, None),
    "account-login": (_sign_in_form("/account/login"), None),
    "account-profile": (_signed_in("account", "/account/profile", "name"), None),
    "account-password": (_signed_in("account", "/account/password", "new_password"), None),
    "account-logout": (_signed_in("account", "/account/logout", "x"), None),
    "admin-login": (_sign_in_form("/admin/login"), None),
    "admin-new-client": (_signed_in("admin", "/admin/clients/new", "client_name"), None),
    "admin-logout": (_signed_in("admin", "/admin/logout", "x"), None),
    "admin-audit-query": (_get("/admin/audit?page=BAD", "admin"), None),
}


@pytest.mark.parametrize("bad", NOT_UTF8)
@pytest.mark.parametrize("entry", list(FORM_ENTRY_POINTS))
def test_invalid_utf8_in_a_form_or_query_is_4xx_and_changes_nothing(
    browsers: Browsers, storage: Storage, entry: str, bad: str
) -> None:
    prepare, error = FORM_ENTRY_POINTS[entry]
    send = prepare(browsers)
    before = database(storage)
    response = send(bad)
    if error is None:
        assert_error_page(response)
        assert "UTF-8" in response.text
    else:
        assert_json_error(response, 400, error)
    assert database(storage) == before
