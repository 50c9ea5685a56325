"""The operator's brand in headless Chromium (docs/templates.md): a live ``oidc-core
serve`` with a name, a logo file, an accent colour, policy and support links and an
overridden ``login.html``; the pages show them, the logo loads, the primary button has the
accent (and its dark-scheme shade), no CSP violation, no accessibility violation; "Not
you? Use another account" leads back to the same request's login page.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browsing import Browsing
from tests.browser.conftest import live_app
from tests.browser.pages import fill_login_form
from tests.browser.relying_party import LiveApp, authorization_request

pytestmark = [pytest.mark.server, pytest.mark.browser]

ACCENT = "#0b6e4f"
ACCENT_RGB = "rgb(11, 110, 79)"
DARK_ACCENT_RGB = "rgb(60, 139, 114)"  # #3c8b72: the first lighter shade at 4.5:1 on #121212
MARKER = "Staff: use your company email address."


def png(width: int, height: int) -> bytes:
    """A real PNG of one colour (so the browser decodes it: naturalWidth > 0)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((11, 110, 79)) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveApp]:
    """The browser suite's provider, branded, with ``login.html`` overridden."""
    tmp = tmp_path_factory.mktemp("brand-files")
    (tmp / "logo.png").write_bytes(png(40, 40))
    templates = tmp / "templates"
    templates.mkdir()
    (templates / "login.html").write_text(
        '{% extends "bundled/login.html" %}\n'
        "{% block content %}{{ super() }}\n"
        f'<p class="small" id="staff-note">{MARKER}</p>\n'
        "{% endblock %}\n"
    )
    settings = {
        "OIDC_BRAND_NAME": "Example Hosting",
        "OIDC_BRAND_LOGO": str(tmp / "logo.png"),
        "OIDC_BRAND_ACCENT_COLOUR": ACCENT,
        "OIDC_SUPPORT_URL": "mailto:help@hosting.example",
        "OIDC_OP_POLICY_URI": "https://hosting.example/privacy",
        "OIDC_OP_TOS_URI": "https://hosting.example/terms",
        "OIDC_TEMPLATES_DIR": str(templates),
    }
    with live_app(tmp_path_factory, request, settings=settings) as app:
        yield app


def shown_in_docs(page: Page, name: str) -> None:
    """The page as docs/templates.md shows it, with ``make screenshots``
    (``OIDC_TEST_SCREENSHOTS=docs/images``)."""
    directory = os.environ.get("OIDC_TEST_SCREENSHOTS")
    if directory:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(Path(directory) / name))


def test_the_pages_wear_the_brand_and_the_override(browsing: Browsing) -> None:
    page, live = browsing.page, browsing.live
    assert live.metadata["op_policy_uri"] == "https://hosting.example/privacy"
    request = authorization_request(live)
    with browsing.step("the branded login page"):
        page.goto(request.url)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator(".provider-name")).to_have_text("Example Hosting")
        logo = page.locator("img.provider-logo")
        expect(logo).to_be_visible()
        assert logo.evaluate("img => img.complete && img.naturalWidth") == 40
        expect(page.locator("#staff-note")).to_have_text(MARKER)  # the override
        button = page.get_by_role("button", name="Sign in")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == ACCENT_RGB
        assert button.evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"
        footer = page.get_by_role("navigation", name="About Example Hosting")
        expect(footer.get_by_role("link", name="Privacy policy")).to_have_attribute(
            "href", "https://hosting.example/privacy"
        )
        expect(footer.get_by_role("link", name="Help")).to_be_visible()
        browsing.assert_no_problems("branded login page")
        browsing.assert_accessible("branded login page")
        shown_in_docs(page, "branded-login-desktop.png")
    with browsing.step("the dark scheme"):
        page.emulate_media(color_scheme="dark")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == DARK_ACCENT_RGB
        browsing.assert_accessible("branded login page, dark")
        page.emulate_media(color_scheme="light")
    with browsing.step("sign in: the consent page offers another account"):
        fill_login_form(browsing)
        expect(page.get_by_role("heading", name=live.name)).to_be_visible()
        expect(page.get_by_role("link", name="Sign out")).to_be_visible()
        browsing.assert_no_problems("branded consent page")
        browsing.assert_accessible("branded consent page")
        consent_url = page.url
    with browsing.step("Not you? leads to the same request's login page"):
        page.get_by_role("link", name="Not you? Use another account").click()
        expect(page.locator("#staff-note")).to_be_visible()
        interaction = consent_url.split("interaction=", 1)[1]
        assert page.url.endswith("/login?interaction=" + interaction + "&another=1")
        fill_login_form(browsing)
        expect(page.get_by_role("heading", name=live.name)).to_be_visible()
    with browsing.step("allow"):
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(lambda url: url.startswith(live.redirect_uri + "?"))
        assert len(browsing.callbacks) == 1, browsing.callbacks
        browsing.assert_no_problems("after consent")
