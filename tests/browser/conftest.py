"""Headless Chromium, driven by Playwright, against ``oidc-core serve`` on loopback.

Chromium comes from the operating system (``apt-get install chromium``); Playwright's own
browser download is never used.  Without Chromium these tests are skipped, with the reason,
unless ``OIDC_TEST_REQUIRE_BROWSER=1`` (set in CI), where a missing browser fails them.

The relying party's redirect URI is on a loopback port nobody listens on: Playwright
intercepts the navigation to it, records the URL and answers with a blank page, so the
browser really follows the provider's redirect (and its CSP ``form-action``) to the client.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.browsing import Browsing
from tests.browser.relying_party import APP_NAME, PASSWORD, SCOPE, LiveApp
from tests.support.live import free_port, provider_at

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

CHROMIUM = Path(os.environ.get("OIDC_TEST_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking switches Chromium keeps calling home, and on a closed
# network that is a stream of refused connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # generous: CI machines are small and busy
expect.set_options(timeout=TIMEOUT_MS)

# Every page reports CSP violations on its console, where the test collects them.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""
CALLBACK_PAGE = "<!doctype html><title>Relying party</title><p>Signed in.</p>"


def _unavailable(reason: str) -> None:
    if os.environ.get("OIDC_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (OIDC_TEST_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """The system's Chromium, headless; module scope so that Playwright's event loop is
    gone before the rest of the suite runs."""
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveApp]:
    tmp = tmp_path_factory.mktemp("browser")
    with provider_at(tmp, request) as provider:
        email = f"browser-{secrets.token_hex(6)}@example.com"
        provider.create_user(email, PASSWORD, "Browser Tester")
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        client_id, client_secret = provider.create_client(
            APP_NAME, redirect_uri, "--grant-type", "refresh_token", "--scope", SCOPE
        )
        yield LiveApp(
            issuer=provider.issuer,
            metadata=provider.metadata,
            log=tmp / "server.log",
            name=APP_NAME,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            email=email,
            password=PASSWORD,
        )


@pytest.fixture
def browsing(chromium: Browser, live: LiveApp, tmp_path: Path) -> Iterator[Browsing]:
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    browsing = Browsing(page=page, live=live, tmp=tmp_path)

    def relying_party(route: Route) -> None:
        browsing.callbacks.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=CALLBACK_PAGE)

    context.route(re.compile("^" + re.escape(live.redirect_uri) + r"(\?.*)?$"), relying_party)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and browsing.problems.append(f"console: {message.text} ({message.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda error: browsing.problems.append(f"page error: {error}"))
    yield browsing
    context.close()
