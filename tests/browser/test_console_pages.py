"""The admin console and the account pages in headless Chromium (issue 14, item 14).

At 1280 x 800 the audit log breaks no word inside itself and names a deleted client; an
administrator moves between the console and their account pages by a link in the top bar
(a user without the admin flag sees none); the profile's language is a list to choose from.
Screenshots of each page are left in the test's temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.browser.axe import violations
from tests.support.live import LiveProvider, provider_at

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.server, pytest.mark.browser]

ADMIN = "ada.administrator@example.com"
USER = "ulrich.user@example.com"
PASSWORD = "a long enough password"
VIEWPORT = {"width": 1280, "height": 800}
DELETED = "Quarterly billing reconciliation portal"

# Every word (a run of non-space characters) in the audit table whose text spans two lines.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("table.audit td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""


@dataclass
class Console:
    provider: LiveProvider
    tmp: Path

    @property
    def issuer(self) -> str:
        return self.provider.issuer


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Console]:
    tmp = tmp_path_factory.mktemp("console")
    with provider_at(tmp, request) as provider:
        for email, extra in ((ADMIN, ["--admin"]), (USER, [])):
            provider.cli(
                "user", "create", "--email", email, "--password-stdin", "--name", "Tester",
                *extra, stdin=PASSWORD + "\n",
            )  # fmt: skip
        # An audit log with long names and many changed fields, and a deleted client.
        for name in ("Customer self-service hosting control panel", DELETED):
            client_id = provider.create_client(name, "https://rp.example/cb")[0]
            provider.cli(
                "client", "update", client_id, "--description", "Provisioned for the panel",
                "--url", "https://rp.example/home", "--access-token-ttl", "600",
                "--id-token-ttl", "900", "--skip-consent", "--scope", "openid profile email",
            )  # fmt: skip
            provider.cli("client", "reset-secret", client_id, "--grace-seconds", "3600")
        provider.cli("client", "delete", client_id)
        yield Console(provider, tmp)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in_to_console(page: Page, console: Console, email: str) -> None:
    page.goto(console.issuer + "/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def shot(page: Page, console: Console, name: str) -> None:
    page.screenshot(path=str(console.tmp / f"{name}.png"), full_page=True)


def test_the_audit_log_breaks_no_word_at_1280_px_and_names_a_deleted_client(
    page: Page, console: Console
) -> None:
    sign_in_to_console(page, console, ADMIN)
    page.goto(console.issuer + "/admin/audit")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    shot(page, console, "audit-1280")
    assert page.evaluate(BROKEN_WORDS) == []
    deleted = page.get_by_role("row").filter(has_text="Deleted client")
    expect(deleted).to_have_count(1)
    expect(deleted.get_by_role("cell").nth(3)).to_contain_text(f"{DELETED} (deleted)")
    assert violations(page) == []


def test_an_administrator_moves_between_the_console_and_the_account_pages(
    page: Page, console: Console
) -> None:
    sign_in_to_console(page, console, ADMIN)
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Connected apps", level=1)).to_be_visible()
    page.get_by_role("link", name="Profile").click()
    language = page.get_by_label("Language")
    expect(language.locator("option")).to_have_text(
        ["Browser default", "English", "Deutsch", "Français", "Español"]
    )
    language.select_option("de")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_have_text("Your profile was saved.")
    expect(page.get_by_label("Language")).to_have_value("de")
    shot(page, console, "profile")
    assert violations(page) == []
    page.get_by_role("link", name="Admin console").click()
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    page.goto(console.issuer + "/admin/no-such-page")
    expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Administration").get_by_role("link")).to_have_text(
        ["Clients", "New client", "Users", "Registration tokens", "Audit log"]
    )
    shot(page, console, "console-404")


def test_a_user_without_the_admin_flag_sees_no_console_link(page: Page, console: Console) -> None:
    page.goto(console.issuer + "/account/login")
    page.get_by_label("Email").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Connected apps", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Admin console")).to_have_count(0)
    shot(page, console, "account-user")
