"""The system's Chromium, headless, driven by Playwright (``tests/browser/``, the
single-page app of ``tests/interop/``).

Chromium comes from the operating system (``apt-get install chromium``); Playwright's own
browser download is never used.  Without Chromium the tests are skipped, with the reason,
unless ``OIDC_TEST_REQUIRE_BROWSER=1`` (set in CI), where a missing browser fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect, sync_playwright

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

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


@contextmanager
def launched(extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    """Chromium for the length of the block (use it from a module-scoped fixture, so that
    Playwright's event loop is gone before the rest of the suite runs)."""
    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def launched_with_profile(
    profile: Path, extra_args: Sequence[str] = ()
) -> Iterator[BrowserContext]:
    """Chromium with a profile directory of its own, as a person's everyday browser has.

    Unlike a fresh context of :func:`launched`, such a browser learns where navigations
    lead and opens connections to those hosts ahead of time (it preconnects), some of which
    stay idle: what a development server meets in real use.
    """
    require_chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            context.close()


def require_chromium() -> None:
    """Skip without Chromium, with the reason; fail instead with OIDC_TEST_REQUIRE_BROWSER=1."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("OIDC_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (OIDC_TEST_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)
