"""The walk over every page route and error page for ``test_security_headers_*.py``: a
browser that always sends ``Origin: https://evil.example`` and records every answer, and
the forms found on those pages.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import peewee
import pytest
import webtest
from webob import Request, Response

from oidc_core import Provider, routes
from oidc_core.credentials import digest
from tests.conftest import make_user, new_app
from tests.support.flow import RP, Account, Flow, hidden

EVIL = {"Origin": "https://evil.example"}
ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "admin's long password"


@dataclass
class Visit:
    label: str
    path: str  # the provider's path
    response: webtest.TestResponse
    browser: webtest.TestApp


class Walker:
    """A browser that records every answer it gets (with the hostile Origin)."""

    def __init__(self, app: webtest.TestApp) -> None:
        self.app = app
        self.visits: list[Visit] = []

    def path_of(self, url: str) -> str:
        path = urlsplit(url).path
        prefix = urlsplit(self.app.issuer).path
        return path[len(prefix) :] if prefix and path.startswith(prefix) else path

    def record(self, label: str, url: str, response: webtest.TestResponse) -> webtest.TestResponse:
        self.visits.append(Visit(label, self.path_of(url), response, self.app))
        return response

    def get(self, label: str, url: str, **kwargs: object) -> webtest.TestResponse:
        headers = {**EVIL, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        response = self.app.get(url, headers=headers, expect_errors=True, **kwargs)
        return self.record(label, url, response)

    def post(self, label: str, url: str, data: object, **kwargs: object) -> webtest.TestResponse:
        headers = {**EVIL, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        response = self.app.post(url, data, headers=headers, expect_errors=True, **kwargs)
        return self.record(label, url, response)

    def request(self, label: str, url: str, method: str) -> webtest.TestResponse:
        response = self.app.request(
            self.app._provider_url(url), method=method, headers=EVIL, expect_errors=True
        )
        return self.record(label, url, response)


def _broken(op: Provider, request: Request) -> Response:
    raise RuntimeError("a bug")


def _database_down(op: Provider, request: Request) -> Response:
    raise peewee.OperationalError("the database went away")


def _test_route(handler: routes.Handler, path: str) -> routes.Route:
    """A page route of the test's own, for the error pages a handler's failure gives."""
    return routes.Route(path.strip("/"), handler, (path,), html=True)


def walk_the_browser_pages(walker: Walker, client: RP, alice: Account) -> None:
    flow = Flow(walker.app, client, alice)
    start = walker.get("authorize", "/authorize?" + urlencode(flow.authorize_params()))
    walker.get("authorize alias", "/oauth/authorize.php?" + urlencode(flow.authorize_params()))
    login = walker.get("login page", start.headers["Location"])
    fields = {
        "interaction": hidden(login, "interaction"),
        "csrf_token": hidden(login, "csrf_token"),
        "email": alice.email,
    }
    walker.post("login failed", "/login", {**fields, "password": "wrong"})
    walker.get(  # no half-done sign-in in this session: the page saying so
        "second factor, none pending",
        "/login/second-factor?" + urlencode({"interaction": fields["interaction"]}),
    )
    signed_in = walker.post("login", "/login", {**fields, "password": alice.password})
    consent = walker.get("consent page", signed_in.headers["Location"])
    walker.post(
        "consent without decision",
        "/consent",
        {
            "interaction": hidden(consent, "interaction"),
            "csrf_token": hidden(consent, "csrf_token"),
        },
    )
    post_mode = flow.authorize_params(response_mode="form_post", scope="openid")
    consent = walker.get(
        "consent page",
        walker.get("authorize form_post", "/authorize?" + urlencode(post_mode)).headers["Location"],
    )
    walker.post(
        "form_post page",
        "/consent",
        {
            "interaction": hidden(consent, "interaction"),
            "csrf_token": hidden(consent, "csrf_token"),
            "decision": "allow",
        },
    )
    confirm = walker.get("logout confirmation", "/end_session")
    walker.post(
        "stayed signed in",
        "/end_session",
        {"csrf_token": hidden(confirm, "csrf_token"), "decision": "stay"},
    )
    walker.post(
        "signed out",
        "/end_session",
        {"csrf_token": hidden(confirm, "csrf_token"), "decision": "sign_out"},
    )
    walker.get("signed-out page", "/end_session")


def walk_the_error_pages(walker: Walker, provider: Provider) -> None:
    settings = provider.settings
    walker.get("400 unknown client", "/authorize?client_id=nobody&response_type=code")
    walker.get("400 alias", "/oauth/authorize.php?client_id=nobody&response_type=code")
    walker.get("404", "/nothing-here")
    walker.request("405 login", "/login", "PUT")
    walker.request("405 consent", "/consent", "DELETE")
    walker.post("413", "/login", b"a=" + b"b" * settings.max_body_bytes, content_type="text/plain")
    walker.get("414", "/authorize?q=" + "u" * settings.max_url_length)
    walker.get("431", "/login", headers={"X-Filler": "h" * settings.max_header_bytes})
    walker.get("500", "/broken-page")
    walker.get("503", "/database-down-page")


def walk_the_console(walker: Walker, provider: Provider, client_id: str) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    login = walker.get("console sign-in page", "/admin/login")
    fields = {"csrf_token": hidden(login, "csrf_token"), "email": ADMIN_EMAIL}
    walker.post("console sign-in failed", "/admin/login", {**fields, "password": "wrong"})
    walker.post("console sign-in", "/admin/login", {**fields, "password": ADMIN_PASSWORD})
    walker.get("console list", "/admin/")
    walker.get("console new client", "/admin/clients/new")
    for page in ("", "/secret", "/reset-secret", "/delete"):
        walker.get(f"console client{page}", f"/admin/clients/{client_id}{page}")
    walker.get("console audit", "/admin/audit")
    walker.get("console registration tokens", "/admin/registration-tokens")
    walker.get("console registration token shown", "/admin/registration-tokens/issued")
    walker.get("console registration token revoke 405", "/admin/registration-tokens/1/revoke")
    walker.get("console users", "/admin/users")
    admin = provider.storage.users.by_email(ADMIN_EMAIL)
    assert admin is not None
    walker.get("console user", f"/admin/users/{admin.subject}")
    walker.get("console user status 405", f"/admin/users/{admin.subject}/status")
    walker.get("console 404", "/admin/clients/nobody")
    walker.request("console 405", "/admin/audit", "POST")


def walk_the_emailed_links(walker: Walker, provider: Provider, user: Account) -> None:
    """The forms of visitors who are not signed in: a reset link asked for, a reset link and
    a verification link opened (issued here, as the mail would carry them)."""
    walker.get("forgot password", "/account/forgot-password")
    found = provider.storage.users.by_email(user.email)
    assert found is not None
    for purpose, path in (
        ("reset", "/account/reset-password"),
        ("verify", "/account/verify-email"),
    ):
        token = secrets.token_urlsafe(32)
        provider.storage.links.issue(found.id, purpose, digest(token), 600, email=user.email)
        walker.get(f"{purpose} link", f"{path}?token={token}")


def walk_the_console_as_a_stranger(walker: Walker, provider: Provider) -> None:
    make_user(provider, "mallory@example.com", "mallory's password")
    login = walker.get("console sign-in page", "/admin/login")
    walker.post(
        "console sign-in (no admin)",
        "/admin/login",
        {
            "csrf_token": hidden(login, "csrf_token"),
            "email": "mallory@example.com",
            "password": "mallory's password",
        },
    )
    walker.get("console 403", "/admin/")


@pytest.fixture
def visits(
    app: webtest.TestApp,
    provider: Provider,
    client_a: RP,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> list[Visit]:
    monkeypatch.setitem(routes.BY_PATH, "/broken-page", _test_route(_broken, "/broken-page"))
    monkeypatch.setitem(
        routes.BY_PATH, "/database-down-page", _test_route(_database_down, "/database-down-page")
    )
    walker = Walker(app)
    walk_the_browser_pages(walker, client_a, alice)
    walk_the_error_pages(walker, provider)
    walk_the_console(walker, provider, client_a.client_id)
    stranger = Walker(new_app(provider))
    walk_the_console_as_a_stranger(stranger, provider)
    return walker.visits + stranger.visits


def html_visits(visits: list[Visit]) -> list[Visit]:
    """The answers that are pages (not redirects)."""
    return [
        v
        for v in visits
        if v.response.content_type == "text/html" and "Location" not in v.response.headers
    ]


_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_BUTTON = re.compile(r'<button type="submit" name="([^"]+)" value="([^"]*)"')


@dataclass(frozen=True)
class Form:
    page: str
    action: str
    fields: tuple[tuple[str, str], ...]


def our_forms(visits: list[Visit], issuer: str) -> list[tuple[Form, webtest.TestApp]]:
    """The forms on the pages visited that post to us (one per page and action)."""
    found: dict[tuple[str, str], tuple[Form, webtest.TestApp]] = {}
    for visit in html_visits(visits):
        for action, body in _FORM.findall(visit.response.text):
            action = html.unescape(action)
            if not action.startswith(issuer + "/"):
                continue  # form_post: the client's form, not ours
            fields = [(k, html.unescape(v)) for k, v in _HIDDEN.findall(body)]
            fields += [(k, html.unescape(v)) for k, v in _BUTTON.findall(body)[:1]]
            form = Form(visit.label, action, tuple(fields))
            found.setdefault((action, visit.label), (form, visit.browser))
    return list(found.values())
