"""Every page a user or an administrator can see, in headless Chromium at desktop (1280 x
800) and phone (390 x 844) width: no WCAG 2.0/2.1 A or AA violation (axe-core), no console
error or CSP violation, nothing wider than the phone's screen (``tests/browser/walk.py``).

The same walk makes the pictures of ``docs/pages.md``: ``make screenshots`` runs it with
``OIDC_TEST_SCREENSHOTS=docs/images``; unset, they go to the test's temporary directory.
Its data is chosen for the pictures: Ada Lovelace signs in to the "Hosting control panel",
whose logo comes from a development server on loopback ``http://``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browser.relying_party import LiveApp, authorization_request
from tests.browser.walk import Walk
from tests.support.chromium import TIMEOUT_MS
from tests.support.live import LiveProvider, free_port, provider_at
from tests.support.mfa import Authenticator
from tests.support.smtp import Mailbox, link_in, mail_environment

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = [pytest.mark.server, pytest.mark.browser]

ADA = "ada@example.com"
GRACE = "grace@example.com"
MARGARET = "margaret@example.com"
ALAN = "alan@example.com"
PASSWORD = "correct horse battery staple"
APP = "Hosting control panel"
SCOPE = "openid profile email"
LOGO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">
<rect width="40" height="40" rx="8" fill="#1d4ed8"/>
<path d="M10 26l10-12 10 12z" fill="#fff"/></svg>"""

# Every page of the walks below, in order; docs/pages.md shows each of them.
USER_PAGES = [
    "error",
    "login",
    "login-error",
    "second-factor-enrol",
    "second-factor-recovery-codes",
    "consent",
    "logout-confirm",
    "logout-done",
    "account-login",
    "account-forgot",
    "account-reset",
    "second-factor",
    "account-apps",
    "account-sessions",
    "account-profile",
    "account-passkeys",
    "account-security",
    "account-verify",
    "account-link-result",
]
ADMIN_PAGES = [
    "admin-login",
    "admin-clients",
    "admin-client-new",
    "admin-client-secret",
    "admin-client",
    "admin-client-reset",
    "admin-client-delete",
    "admin-users",
    "admin-user",
    "admin-registration-tokens",
    "admin-registration-token",
    "admin-audit",
    "admin-forbidden",
]


@dataclass
class Site:
    provider: LiveProvider
    app: LiveApp
    mailbox: Mailbox
    logo_url: str


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, mailbox: Mailbox
) -> Iterator[Site]:
    """The provider (on ``localhost``, where passkeys work) with its demo people and app."""
    tmp = tmp_path_factory.mktemp("every-page")
    settings = {
        **mail_environment(mailbox),
        # A brand as an operator sets one: its name on the pages, its links in the footer.
        "OIDC_BRAND_NAME": "Example Hosting",
        "OIDC_SUPPORT_URL": "https://hosting.example/support",
        "OIDC_OP_POLICY_URI": "https://hosting.example/privacy",
        "OIDC_OP_TOS_URI": "https://hosting.example/terms",
    }
    with provider_at(tmp, request, settings=settings, host="localhost") as provider:
        provider.create_user(ADA, PASSWORD, "Ada Lovelace")
        provider.create_user(ALAN, PASSWORD, "Alan Turing")
        provider.cli(
            "user", "create", "--email", MARGARET, "--password-stdin",
            "--name", "Margaret Hamilton", "--email-verified", "--admin", stdin=PASSWORD + "\n",
        )  # fmt: skip
        port = free_port()
        logo_url = f"http://127.0.0.1:{port}/logo.svg"
        redirect_uri = f"http://127.0.0.1:{port}/callback"
        client_id, client_secret = provider.create_client(
            APP, redirect_uri, "--scope", SCOPE, "--require-mfa", "--logo-uri", logo_url,
            "--description", "Manage your domains, mailboxes and invoices",
        )  # fmt: skip
        app = LiveApp(
            issuer=provider.issuer,
            metadata=provider.metadata,
            log=tmp / "server.log",
            name=APP,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            email=ADA,
            password=PASSWORD,
        )
        yield Site(provider, app, mailbox, logo_url)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the pictures go: ``OIDC_TEST_SCREENSHOTS`` or the test's own directory."""
    chosen = os.environ.get("OIDC_TEST_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def walk(chromium: Browser, site: Site, shots: Path) -> Iterator[Walk]:
    """A tab whose requests to the relying party's loopback server (its logo and its
    redirect URI) Playwright answers."""
    context = chromium.new_context(locale="en-US", timezone_id="UTC")
    context.set_default_timeout(TIMEOUT_MS)
    origin = site.logo_url.rsplit("/", 1)[0]

    def relying_party(route: Route) -> None:
        if route.request.url == site.logo_url:
            route.fulfill(status=200, content_type="image/svg+xml", body=LOGO)
        else:
            body = "<!doctype html><title>Hosting control panel</title><p>Signed in.</p>"
            route.fulfill(status=200, content_type="text/html", body=body)

    context.route(origin + "/**", relying_party)
    yield Walk(context.new_page(), shots)
    context.close()


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def heading(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_every_page_a_user_sees(walk: Walk, site: Site) -> None:
    page, issuer, mailbox = walk.page, site.provider.issuer, site.mailbox
    response = page.goto(issuer + "/authorize?client_id=no-such-client&response_type=code")
    assert response is not None and response.status == 400
    walk.check("error")

    request = authorization_request(site.app)
    page.goto(request.url)
    heading(page, "Sign in")
    walk.check("login")
    page.get_by_label("Email").fill(ADA)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    walk.check("login-error")
    sign_in(page, ADA)
    heading(page, "Set up two-step verification")
    device = Authenticator(page.locator("#totp-secret").inner_text().replace(" ", ""))
    walk.check("second-factor-enrol")
    page.get_by_label("Code from the app").fill(device.code())
    page.get_by_role("button", name="Turn on").click()
    heading(page, "Your recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    walk.check("second-factor-recovery-codes")
    page.get_by_role("button", name="Continue").click()
    heading(page, APP)
    walk.check("consent")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(lambda url: url.startswith(site.app.redirect_uri + "?"))

    page.goto(issuer + "/end_session")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign out of")
    walk.check("logout-confirm")
    page.get_by_role("button", name="Sign out").click()
    heading(page, "You are signed out")
    walk.check("logout-done")

    page.goto(issuer + "/account/login")
    heading(page, "Your account")
    walk.check("account-login")
    page.get_by_role("link", name="Forgot password?").click()
    heading(page, "Forgot password")
    walk.check("account-forgot")
    before = len(mailbox.messages)
    page.get_by_label("Email address").fill(ADA)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(issuer + link_in(mailbox.wait(before + 1)[before]))
    heading(page, "Choose a new password")
    walk.check("account-reset")

    page.goto(issuer + "/account/login")
    sign_in(page, ADA)
    heading(page, "Two-step verification")
    walk.check("second-factor")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    heading(page, "Connected apps")
    walk.check("account-apps")
    for name, title in [
        ("sessions", "Sessions"),
        ("profile", "Profile"),
        ("passkeys", "Passkeys"),
        ("security", "Security"),
    ]:
        page.get_by_role("link", name=title, exact=True).click()
        heading(page, title)
        walk.check(f"account-{name}")

    before = len(mailbox.messages)
    site.provider.cli(
        "user", "create", "--email", GRACE, "--password-stdin", "--name", "Grace Hopper",
        "--send-verification", stdin=PASSWORD + "\n",
    )  # fmt: skip
    link = issuer + link_in(mailbox.wait(before + 1)[before])
    page.goto(link)
    heading(page, "Confirm your email address")
    walk.check("account-verify")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("This link does not work")
    walk.check("account-link-result")

    assert walk.seen == USER_PAGES
    assert walk.failures == [], "\n".join(walk.failures)


def test_every_page_an_administrator_sees(walk: Walk, site: Site) -> None:
    page, issuer = walk.page, site.provider.issuer
    page.goto(issuer + "/admin/login")
    walk.check("admin-login")
    sign_in(page, MARGARET)
    heading(page, "Clients")
    walk.check("admin-clients")
    page.get_by_role("link", name="New client").first.click()
    heading(page, "New client")
    walk.check("admin-client-new")
    page.locator("#client_name").fill("Customer billing portal")
    page.locator("#redirect_uris").fill("https://billing.example.com/callback")
    page.get_by_role("button", name="Create client").click()
    expect(page.locator("code").first).to_be_visible()
    walk.check("admin-client-secret")
    # Found by its client ID: on a server database the list holds other tests' clients
    # too (one named "Customer self-service hosting control panel", say), over pages.
    page.goto(issuer + "/admin/?" + urlencode({"q": site.app.client_id}))
    page.get_by_role("link", name=APP, exact=True).click()
    heading(page, APP)
    client = page.url
    walk.check("admin-client")
    page.goto(client + "/reset-secret")
    heading(page, "Reset the client secret")
    walk.check("admin-client-reset")
    page.goto(client + "/delete")
    heading(page, "Delete this client?")
    walk.check("admin-client-delete")
    page.goto(issuer + "/admin/users")
    heading(page, "Users")
    walk.check("admin-users")
    page.goto(issuer + "/admin/users?" + urlencode({"q": ADA}))
    page.get_by_role("link", name=ADA, exact=True).click()
    heading(page, ADA)
    walk.check("admin-user")
    page.goto(issuer + "/admin/registration-tokens")
    heading(page, "Registration tokens")
    walk.check("admin-registration-tokens")
    page.locator("#name").fill("Reseller servers")
    page.get_by_role("button", name="Issue token").click()
    heading(page, "Registration token issued")
    walk.check("admin-registration-token")
    page.goto(issuer + "/admin/audit")
    heading(page, "Audit log")
    walk.check("admin-audit")

    page.context.clear_cookies()
    page.goto(issuer + "/admin/login")
    sign_in(page, ALAN)  # not an administrator
    heading(page, "Administrators only")
    walk.check("admin-forbidden")

    assert walk.seen == ADMIN_PAGES
    assert walk.failures == [], "\n".join(walk.failures)
