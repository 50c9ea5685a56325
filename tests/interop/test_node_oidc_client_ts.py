"""oidc-client-ts in a real browser: a single-page app with a public client (PKCE, no secret).

The app (``tests/interop/node/spa/``) loads oidc-client-ts's browser bundle from
``node_modules`` and is served by the test on ``http://localhost:<port>``: its own origin,
another site than the provider's ``127.0.0.1``.  Headless Chromium from the operating
system, driven by Playwright, signs in through the provider's real login and consent pages,
lands on the app's callback where oidc-client-ts exchanges the code and calls userinfo from
the page (CORS), refreshes the tokens, and signs out through the end-session endpoint
(revoking its tokens first).  The failures: a revoked refresh token, a silent sign-in
without a session (``prompt=none``), an unregistered redirect URI.  The ID token is verified
here with PyJWT.  A failure names the client, the step and the provider's log lines for the
step's requests.

Over https (the provider's certificate from a throwaway CA), ``server_certificate`` is
overridden with the server's certificate, which Chromium is told to accept by its key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import expect

from tests.browser.relying_party import LiveApp, verified_id_token
from tests.support.chromium import TIMEOUT_MS, launched
from tests.support.live import HTTP_TIMEOUT, free_port
from tests.support.node import NODE_DIR, NODE_MODULES, package_version, require_packages
from tests.support.tls import TLSFiles, provider_over
from tests.support.trace import Trace

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Response

pytestmark = [pytest.mark.server, pytest.mark.browser]

SCOPE = "openid profile email offline_access"
PASSWORD = "a long and correct password for oidc-client-ts"
APP_NAME = "Single-page app"
SPA_DIR = NODE_DIR / "spa"
BUNDLE = NODE_MODULES / "oidc-client-ts" / "dist" / "browser" / "oidc-client-ts.min.js"


class SpaServer(ThreadingHTTPServer):
    files: dict[str, tuple[str, bytes]]


class SpaHandler(BaseHTTPRequestHandler):
    """The app's static files; every other path is the app's page (a SPA's routing)."""

    server: SpaServer

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        content_type, body = self.server.files.get(path, self.server.files["/"])
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving_the_app(port: int, config: dict[str, str]) -> Iterator[None]:
    """The app on ``port`` of the loopback interface, as ``http://localhost:<port>``."""
    script = f"window.SPA_CONFIG = {json.dumps(config)};\n".encode()
    server = SpaServer(("127.0.0.1", port), SpaHandler)
    server.files = {
        "/": ("text/html; charset=utf-8", (SPA_DIR / "index.html").read_bytes()),
        "/app.js": ("text/javascript", (SPA_DIR / "app.js").read_bytes()),
        "/config.js": ("text/javascript", script),
        "/oidc-client-ts.min.js": ("text/javascript", BUNDLE.read_bytes()),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Spa:
    live: LiveApp  # client_secret is empty: a public client
    origin: str


@pytest.fixture(scope="module")
def server_certificate(tls_files: TLSFiles) -> Path | None:
    """The provider's certificate (PEM), for Chromium to accept: the app runs over https
    (the Python and openid-client tests cover plain http on loopback too)."""
    return tls_files.cert_file


def trusting(certificate: Path | None) -> list[str]:
    """Chromium's switches to accept the provider's certificate, and no other unknown one.

    Chromium on Linux trusts only its NSS database, which a test cannot fill without
    ``certutil``; ``--ignore-certificate-errors-spki-list`` pins the server's own public key
    instead (``--ignore-certificate-errors`` would accept any certificate at all).
    """
    if certificate is None:
        return []
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return [f"--ignore-certificate-errors-spki-list={pin}"]


@pytest.fixture(scope="module")
def chromium(server_certificate: Path | None) -> Iterator[Browser]:
    with launched(trusting(server_certificate)) as browser:
        yield browser


def _public_client(issuer: str, admin_token: str, origin: str) -> str:
    """Registered through the management API (the CLI has no post-logout redirect URIs)."""
    response = requests.post(
        issuer + "/admin/api/clients",
        json={
            "client_name": APP_NAME,
            "redirect_uris": [origin + "/callback"],
            "post_logout_redirect_uris": [origin + "/signed-out"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": SCOPE,
        },
        headers={"Authorization": "Bearer " + admin_token},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    assert response.json()["token_endpoint_auth_method"] == "none"
    return str(response.json()["client_id"])


@pytest.fixture(scope="module")
def spa(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, tls_files: TLSFiles
) -> Iterator[Spa]:
    require_packages("oidc-client-ts")
    tmp = tmp_path_factory.mktemp("oidc-client-ts")
    with provider_over("https", tmp, request, tls_files) as provider:
        email = f"spa-{secrets.token_hex(6)}@example.com"
        provider.create_user(email, PASSWORD, "SPA Tester")
        admin_token = json.loads(provider.cli("admin-token", "create", "--name", "spa", "--json"))
        port = free_port()
        origin = f"http://localhost:{port}"
        client_id = _public_client(provider.issuer, admin_token["token"], origin)
        config = {"authority": provider.issuer, "client_id": client_id, "scope": SCOPE}
        with serving_the_app(port, config):
            yield Spa(
                live=LiveApp(
                    issuer=provider.issuer,
                    metadata=provider.metadata,
                    log=tmp / "server.log",
                    name=APP_NAME,
                    client_id=client_id,
                    client_secret="",
                    redirect_uri=origin + "/callback",
                    email=email,
                    password=PASSWORD,
                ),
                origin=origin,
            )


@dataclass
class Tab:
    """One browser tab on the app; the provider's answers it received, and its errors."""

    page: Page
    spa: Spa
    trace: Trace
    provider_answers: list[Response] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def answered(self, response: Response) -> None:
        if response.url.startswith(self.spa.live.issuer + "/"):
            self.provider_answers.append(response)
            request_id = response.headers.get("x-request-id")
            self.trace.record(response.request.method, response.url, response.status, request_id)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(message.text)

    def page_error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")

    def status_is(self, status: str) -> None:
        """The app's status; if it says it failed, its error."""
        status_line = self.page.locator("#status")
        try:
            expect(status_line).to_have_text(status)
        except AssertionError:
            error = self.page.locator("#error").text_content()
            raise AssertionError(
                f"the app says {status_line.text_content()!r}, not {status!r}: {error}; "
                f"console: {self.problems}"
            ) from None

    def user(self) -> dict[str, Any] | None:
        user: dict[str, Any] | None = json.loads(self.page.locator("#user").text_content() or "")
        return user

    def cors_of(self, endpoint: str) -> list[str | None]:
        """``Access-Control-Allow-Origin`` of the app's calls to an endpoint (no preflight)."""
        url = self.spa.live.metadata[endpoint]
        return [
            answer.headers.get("access-control-allow-origin")
            for answer in self.provider_answers
            if answer.url.split("?")[0] == url and answer.request.method != "OPTIONS"
        ]


@pytest.fixture
def tab(chromium: Browser, spa: Spa) -> Iterator[Tab]:
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    tab = Tab(page, spa, Trace(f"oidc-client-ts {package_version('oidc-client-ts')}", spa.live.log))
    page.on("response", tab.answered)
    page.on("console", tab.console)
    page.on("pageerror", tab.page_error)
    yield tab
    context.close()


def _refresh_status(live: LiveApp, refresh_token: str) -> tuple[int, str]:
    response = requests.post(
        live.metadata["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": live.client_id,
        },
        timeout=HTTP_TIMEOUT,
    )
    return response.status_code, response.json().get("error", "")


def sign_in(tab: Tab) -> dict[str, Any]:
    """From the app through the provider's login and consent pages (consent is asked once
    per user and app) back to the app; the user the app shows."""
    page, live, trace = tab.page, tab.spa.live, tab.trace
    with trace.step("open the app"):
        page.goto(tab.spa.origin + "/")
        tab.status_is("ready")
    with trace.step("signinRedirect to the login page"):
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert page.url.startswith(live.issuer + "/login"), page.url
    with trace.step("sign in"):
        page.get_by_label("Email").fill(live.email)
        page.get_by_label("Password").fill(live.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        callback = tab.spa.origin + "/callback"
        page.wait_for_url(lambda url: url.startswith((live.issuer + "/consent", callback)))
    with trace.step("allow (the first time), then signinRedirectCallback"):
        if page.url.startswith(live.issuer + "/consent"):
            expect(page.get_by_role("heading", name=APP_NAME)).to_be_visible()
            page.get_by_role("button", name="Allow").click()
        page.wait_for_url(callback + "?*")
        tab.status_is("signed in")
        user = tab.user()
        assert user is not None
        return user


def test_sign_in_refresh_and_sign_out(tab: Tab, spa: Spa) -> None:
    page, live, trace = tab.page, spa.live, tab.trace
    user = sign_in(tab)
    with trace.step("the profile from the ID token and userinfo"):
        claims = verified_id_token(live, user["id_token"], None)
        profile = user["profile"]
        assert profile["sub"] == claims["sub"]
        assert profile["email"] == live.email  # from userinfo (loadUserInfo)
        assert profile["name"] == "SPA Tester"
        assert set(user["scope"].split()) == set(SCOPE.split())
        assert user["refresh_token"], "offline_access granted, but no refresh token"
        # The app read the token and userinfo answers only because CORS let it.
        assert tab.cors_of("token_endpoint") == [spa.origin]
        assert tab.cors_of("userinfo_endpoint") == [spa.origin]
    with trace.step("refresh (signinSilent with the refresh token)"):
        page.get_by_role("button", name="Refresh the tokens").click()
        tab.status_is("refreshed")
        refreshed = tab.user()
        assert refreshed is not None
        assert refreshed["access_token"] != user["access_token"]
        assert refreshed["refresh_token"] != user["refresh_token"]  # rotated
        assert refreshed["profile"]["sub"] == claims["sub"]
        assert tab.cors_of("token_endpoint") == [spa.origin, spa.origin]
    with trace.step("signoutRedirect, back to the app"):
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(spa.origin + "/signed-out*")
        tab.status_is("signed out")
        assert tab.user() is None
        assert tab.cors_of("revocation_endpoint") == [spa.origin, spa.origin]
    with trace.step("the tokens are revoked and the provider's session ended"):
        assert _refresh_status(live, refreshed["refresh_token"]) == (400, "invalid_grant")
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(live.issuer + "/login*")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert tab.problems == [], tab.problems


def test_silent_sign_in_without_a_session_is_login_required(tab: Tab, spa: Spa) -> None:
    """signinSilent without a refresh token: a hidden iframe asks with ``prompt=none``; with
    nobody signed in the provider answers ``login_required`` to the app's callback."""
    page, trace = tab.page, tab.trace
    with trace.step("open the app"):
        page.goto(spa.origin + "/")
        tab.status_is("ready")
    with trace.step("signinSilent in an iframe"):
        page.get_by_role("button", name="Sign in silently").click()
        tab.status_is("silent sign-in failed")
        error = page.locator("#error").text_content() or ""
        assert "login_required" in error, error
        authorize = [
            a
            for a in tab.provider_answers
            if a.url.startswith(spa.live.metadata["authorization_endpoint"])
        ]
        assert len(authorize) == 1 and "prompt=none" in authorize[0].url, authorize
    problems = [p for p in tab.problems if "silent sign-in failed" not in p]
    assert problems == [], problems


def test_a_revoked_refresh_token_reads_invalid_grant(tab: Tab, spa: Spa) -> None:
    """The app can read the token endpoint's error (CORS on errors too) and knows it must
    sign in again."""
    user = sign_in(tab)
    with tab.trace.step("revoke the refresh token behind the app's back"):
        response = tab.trace.session().post(
            spa.live.metadata["revocation_endpoint"],
            data={"token": user["refresh_token"], "client_id": spa.live.client_id},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200, response.text
    with tab.trace.step("signinSilent with the revoked refresh token"):
        tab.page.get_by_role("button", name="Refresh the tokens").click()
        tab.status_is("refresh failed")
        error = tab.page.locator("#error").text_content() or ""
        assert "invalid_grant" in error, error
        assert tab.cors_of("token_endpoint") == [spa.origin, spa.origin]
    expected = ("refresh failed", "the server responded with a status of 400")  # the 400
    problems = [p for p in tab.problems if not any(e in p for e in expected)]
    assert problems == [], problems


def test_an_unregistered_redirect_uri_stops_at_the_provider(tab: Tab, spa: Spa) -> None:
    """signinRedirect with a redirect URI the app did not register: the provider's error
    page, and the browser goes nowhere else."""
    page, live, trace = tab.page, spa.live, tab.trace
    with trace.step("open the app"):
        page.goto(spa.origin + "/")
        tab.status_is("ready")
    with trace.step("signinRedirect with an unregistered redirect_uri"):
        with page.expect_response(lambda r: r.url.startswith(live.issuer + "/authorize")) as info:
            page.get_by_role("button", name="Sign in to an unregistered address").click()
        assert info.value.status == 400, info.value.status
        expect(page.get_by_text("not registered")).to_be_visible()
        assert page.url.startswith(live.metadata["authorization_endpoint"]), page.url
    expected = "the server responded with a status of 400"  # the error page itself
    problems = [p for p in tab.problems if expected not in p]
    assert problems == [], problems
