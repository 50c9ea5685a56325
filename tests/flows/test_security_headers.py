"""Every HTML page carries the security headers, and every form we post to is CSRF-checked.

A browser walks every page route (the authorization endpoint and its alias, login, consent,
logout, ``form_post``, the administration console) and the error pages (400, 401, 403, 404,
405, 413, 414, 431, 500, 503), always sending ``Origin: https://evil.example``.  Each HTML
answer must carry CSP with ``frame-ancestors 'none'``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store`` (R-CJ-1, R-RF-1, design
rule 10), and none may carry ``Access-Control-Allow-Origin`` (R-CO-1, T-77).  The walk
checks that it reached every HTML route the provider has, so a new page cannot be missed.

Then every form found on those pages that posts back to us is submitted without its CSRF
token and with another session's token: 403, nothing changed (R-CS-1, T-22).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import peewee
import pytest
import webtest
from webob import Request, Response

from oidc_core import Provider, routes
from oidc_core.admin import console
from tests.conftest import make_client, make_user, new_app
from tests.support.flow import RP, Account, Flow, hidden, issuer_of

EVIL = {"Origin": "https://evil.example"}
FORM = "application/x-www-form-urlencoded"
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
    walker.get("console 404", "/admin/clients/nobody")
    walker.request("console 405", "/admin/audit", "POST")


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


def test_the_walk_reaches_every_page_route_and_every_error_status(visits: list[Visit]) -> None:
    pages = html_visits(visits)
    paths = {v.path for v in pages}
    areas = [route for route in routes.ROUTES if route.prefixes]  # pages in tables of their own
    html_routes = {path for r in routes.ROUTES if r.html and r not in areas for path in r.paths}
    missing = html_routes - paths
    assert not missing, f"HTML routes the walk never reached: {missing}"
    for pattern, _, _ in console.ROUTES:
        assert any(pattern.fullmatch(path) for path in paths), pattern.pattern
    statuses = {v.response.status_int for v in pages}
    assert {200, 400, 401, 403, 404, 405, 413, 414, 431, 500, 503} <= statuses, statuses
    assert any("form_post" in v.label and "<form" in v.response.text for v in pages)


def test_every_html_answer_carries_the_security_headers(visits: list[Visit]) -> None:
    """T-77, R-CJ-1, R-RF-1: framing forbidden twice, no referrer, never cached."""
    for visit in html_visits(visits):
        headers = visit.response.headers
        where = f"{visit.label} ({visit.path}, {visit.response.status})"
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, where
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp, where
        assert headers.get("X-Frame-Options") == "DENY", where
        assert headers.get("Referrer-Policy") == "no-referrer", where
        assert headers.get("Cache-Control") == "no-store", where
        assert headers.get("X-Content-Type-Options") == "nosniff", where
        assert "Traceback" not in visit.response.text, where


def test_no_answer_to_a_hostile_origin_allows_it(visits: list[Visit]) -> None:
    """T-77, R-CO-1: no CORS on authorization, pages, errors or the console (redirects
    included)."""
    for visit in visits:
        assert "Access-Control-Allow-Origin" not in visit.response.headers, visit.label
        assert "Access-Control-Allow-Credentials" not in visit.response.headers, visit.label


def test_redirects_are_not_cached_and_send_no_referrer(visits: list[Visit]) -> None:
    redirects = [v for v in visits if "Location" in v.response.headers]
    assert len(redirects) >= 5
    for visit in redirects:
        assert visit.response.status_int in (302, 303), visit.label
        assert visit.response.headers["Cache-Control"] == "no-store", visit.label
        assert visit.response.headers["Referrer-Policy"] == "no-referrer", visit.label


# -- CSRF on every form that posts back to us --------------------------------------------

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


@pytest.fixture
def live_forms(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> list[tuple[Form, webtest.TestApp]]:
    """Every kind of form, each left open in its own browser, ready to be submitted."""
    walkers = [Walker(new_app(provider)) for _ in range(4)]
    at_login, at_consent, admin, stranger = walkers
    flow = Flow(at_login.app, client_a, alice)
    at_login.get("login page", flow.start().headers["Location"])
    flow = Flow(at_consent.app, client_a, alice)
    flow.authorize()
    response = flow.start(prompt="consent")
    at_consent.get("consent page", response.headers["Location"])
    at_consent.get("logout confirmation", "/end_session")
    walk_the_console(admin, provider, client_a.client_id)
    walk_the_console_as_a_stranger(stranger, provider)
    return our_forms([v for w in walkers for v in w.visits], issuer_of(app))


def test_every_form_of_ours_carries_a_csrf_token(
    live_forms: list[tuple[Form, webtest.TestApp]], issuer: str
) -> None:
    actions = {urlsplit(form.action).path for form, _ in live_forms}
    prefix = urlsplit(issuer).path
    expected = {"/login", "/consent", "/end_session", "/admin/login", "/admin/logout"}
    assert {prefix + path for path in expected} <= actions, actions
    assert any("/admin/clients/" in action for action in actions), actions
    for form, _ in live_forms:
        names = [name for name, _ in form.fields]
        assert names.count("csrf_token") == 1, form


@pytest.mark.parametrize("token", ["none", "another session's"])
def test_every_form_of_ours_is_refused_without_its_csrf_token(
    live_forms: list[tuple[Form, webtest.TestApp]], provider: Provider, token: str
) -> None:
    """T-22, R-CS-1: 403, no redirect, no session or client changed, whatever the form."""
    assert len(live_forms) >= 9
    other = hidden(new_app(provider).get("/admin/login"), "csrf_token")
    for form, browser in live_forms:
        fields = [(k, v) for k, v in form.fields if k != "csrf_token"]
        if token != "none":
            fields.append(("csrf_token", other))
        before = _state(provider)
        response = browser.post(
            form.action, urlencode(fields), headers=EVIL, content_type=FORM, expect_errors=True
        )
        where = f"{form.page} -> {form.action}"
        assert response.status_int == 403, (where, response.status, response.text[:200])
        assert "Location" not in response.headers, where
        assert _state(provider) == before, where


def _state(provider: Provider) -> list[list[tuple[object, ...]]]:
    """What a forged form could change: signed-in sessions, codes, consents, clients."""
    queries = (
        "SELECT id, user_id, key_digest FROM oidc_browser_session WHERE user_id IS NOT NULL "
        "ORDER BY id",
        "SELECT id FROM oidc_authorization_code ORDER BY id",
        "SELECT id, scopes FROM oidc_consent ORDER BY id",
        "SELECT id, name, secret_digest FROM oidc_client ORDER BY id",
    )
    db = provider.storage.database
    return [[tuple(row) for row in db.execute_sql(sql).fetchall()] for sql in queries]


def _img_src(response: webtest.TestResponse) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return next(d.split()[1:] for d in policy.split(";") if d.split()[0] == "img-src")


@pytest.mark.parametrize(
    ("logo", "allowed"),
    [
        ("http://127.0.0.1:9000/logo.png", ["http://127.0.0.1:9000"]),
        ("http://localhost:9000/logo.png", ["http://localhost:9000"]),
        ("https://rp.example/logo.png", []),  # https: covers it
        ("/static/logo.png", []),  # 'self' does
    ],
)
def test_a_logo_the_registration_accepts_is_allowed_by_img_src_where_it_is_shown(
    app: webtest.TestApp, provider: Provider, alice: Account, logo: str, allowed: list[str]
) -> None:
    """A client's logo on an http:// loopback URL (accepted for development) was blocked by
    every page's CSP: its origin is added to img-src on the consent page, the account's
    connected apps and the console's client page; nothing else is."""
    client = make_client(
        provider.storage, "Local app", ["http://127.0.0.1:9000/callback"], logo_uri=logo
    )
    flow = Flow(app, client, alice)
    consent = app.get(flow.login(app.get(flow.start().headers["Location"])).headers["Location"])
    assert "<img src=" in consent.text
    assert _img_src(consent) == ["'self'", "https:", "data:", *allowed]
    flow.consent(consent)
    apps = app.get("/account/")
    assert "<img src=" in apps.text
    assert _img_src(apps) == ["'self'", "https:", "data:", *allowed]
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    admin = new_app(provider)
    login = admin.get("/admin/login")
    signed_in = admin.post(
        "/admin/login",
        {
            "csrf_token": hidden(login, "csrf_token"),
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
        },
    )
    assert signed_in.status_int == 303
    page = admin.get(f"/admin/clients/{client.client_id}")
    assert '<img class="logo" src=' in page.text
    assert _img_src(page) == ["'self'", "https:", "data:", *allowed]


def test_only_loopback_http_logos_reach_img_src() -> None:
    """Whatever a logo URI holds (a row written around the registration rules), img-src
    only ever gains the origin of an http:// URL on a loopback host."""
    from oidc_core import responses

    hostile = [
        "http://evil.example/logo.png",
        "http://127.0.0.1:9000;script-src *",
        "http://127.0.0.1:9000 'unsafe-inline'/x.png",
        "javascript:alert(1)",
        "http://127.0.0.1.nip.io/x.png",
    ]
    policy = responses.html_page("", images_from=hostile).headers["Content-Security-Policy"]
    assert policy == responses.SECURITY_HEADERS["Content-Security-Policy"]
    twice = ["http://[::1]:9000/a.png", "http://[::1]:9000/b.png"]
    policy = responses.html_page("", images_from=twice).headers["Content-Security-Policy"]
    assert "img-src 'self' https: data: http://[::1]:9000; " in policy
