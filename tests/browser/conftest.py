"""Headless Chromium, driven by Playwright, against ``oidc-core serve`` on loopback.

Chromium comes from the operating system, never from Playwright's download
(:mod:`tests.support.chromium`).

The relying party's redirect URI is on a loopback port nobody listens on: Playwright
intercepts the navigation to it, records the URL and answers with a blank page, so the
browser really follows the provider's redirect (and its CSP ``form-action``) to the client.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.browsing import Browsing
from tests.browser.relying_party import APP_NAME, PASSWORD, SCOPE, LiveApp
from tests.support.chromium import TIMEOUT_MS, launched
from tests.support.live import LiveProvider, free_port, provider_at
from tests.support.smtp import Mailbox, serve, stop

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route


# Every page reports CSP violations on its console, where the test collects them.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""
CALLBACK_PAGE = "<!doctype html><title>Relying party</title><p>Signed in.</p>"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """The system's Chromium, headless (:mod:`tests.support.chromium`)."""
    with launched() as browser:
        yield browser


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, request) as app:
        yield app


@contextmanager
def live_app(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    host: str = "127.0.0.1",
    settings: Mapping[str, str] | None = None,
) -> Iterator[LiveApp]:
    """The provider served with a user and the client (its issuer on ``host``; ``settings``:
    more of its environment)."""
    with served(tmp_path_factory, request, host, settings) as (_, app):
        yield app


@contextmanager
def served(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    host: str = "127.0.0.1",
    settings: Mapping[str, str] | None = None,
) -> Iterator[tuple[LiveProvider, LiveApp]]:
    """:func:`live_app` and the provider itself (to add users, say)."""
    tmp = tmp_path_factory.mktemp("browser")
    with provider_at(tmp, request, settings=dict(settings or {}), host=host) as provider:
        email = f"browser-{secrets.token_hex(6)}@example.com"
        provider.create_user(email, PASSWORD, "Browser Tester")
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        client_id, client_secret = provider.create_client(
            APP_NAME, redirect_uri, "--grant-type", "refresh_token", "--scope", SCOPE
        )
        yield (
            provider,
            LiveApp(
                issuer=provider.issuer,
                metadata=provider.metadata,
                log=tmp / "server.log",
                name=APP_NAME,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uri=redirect_uri,
                email=email,
                password=PASSWORD,
            ),
        )


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server for the module's live provider, whose mail the tests read."""
    box = Mailbox()
    controller = serve(box)
    yield box
    stop(controller)


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
