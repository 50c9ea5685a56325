"""In headless Chromium, against ``oidc-core serve`` mailing to a real SMTP server: a user
who forgot their password resets it through the link in the mail, and a user who changed
their address confirms it through the link sent to the new one (issue 16).  The pages must
log no console error or CSP violation and pass axe-core's WCAG 2.1 A/AA rules."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Browsing
from tests.browser.conftest import served
from tests.browser.relying_party import PASSWORD, LiveApp
from tests.support.smtp import Mailbox, link_in, mail_environment

pytestmark = [pytest.mark.server, pytest.mark.browser]

NEW_PASSWORD = "a password chosen through the link"


@pytest.fixture(scope="module")
def accounts(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, mailbox: Mailbox
) -> Iterator[tuple[LiveApp, str]]:
    """The provider of ``tests/browser/conftest.py``, sending its mail to ``mailbox``, and
    a second account: each test changes its own account, so neither needs the other."""
    with served(tmp_path_factory, request, settings=mail_environment(mailbox)) as (provider, app):
        second = f"browser-{secrets.token_hex(6)}@example.com"
        provider.create_user(second, PASSWORD, "Second Tester")
        yield app, second


@pytest.fixture(scope="module")
def live(accounts: tuple[LiveApp, str]) -> LiveApp:
    return accounts[0]


@pytest.fixture(scope="module")
def second_account(accounts: tuple[LiveApp, str]) -> str:
    return accounts[1]


def sign_in(browsing: Browsing, email: str, password: str) -> None:
    page = browsing.page
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    browsing: Browsing, mailbox: Mailbox
) -> None:
    page, live = browsing.page, browsing.live
    before = len(mailbox.messages)
    with browsing.step("ask for a link from the sign-in page"):
        page.goto(live.issuer + "/account/login")
        page.get_by_role("link", name="Forgot password?").click()
        expect(page.get_by_role("heading", name="Forgot password", level=1)).to_be_visible()
        browsing.assert_accessible("forgot password page")
        page.get_by_label("Email address").fill(live.email)
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("status")).to_contain_text("we sent a link to it")
        browsing.assert_no_problems("forgot password page")
    with browsing.step("open the link from the mail and choose a new password"):
        message = mailbox.wait(before + 1)[before]
        assert message["To"] == live.email
        page.goto(live.issuer + link_in(message))
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        browsing.assert_accessible("new password page")
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status")).to_contain_text("Your password was changed.")
        browsing.assert_no_problems("new password page")
    with browsing.step("sign in with the new password"):
        page.get_by_role("link", name="Sign in").click()
        sign_in(browsing, live.email, NEW_PASSWORD)
        expect(page.get_by_role("heading", name="Connected apps", level=1)).to_be_visible()
    with browsing.step("the link is used up"):
        response = page.goto(live.issuer + link_in(message))
        assert response is not None and response.status == 400
        expect(page.get_by_role("status")).to_contain_text("This link does not work")
        # Chromium reports the 400 itself on the console; nothing else may be there.
        expected = [p for p in browsing.problems if "status of 400 (Bad Request)" in p]
        assert len(expected) == 1, browsing.problems
        browsing.problems.remove(expected[0])
        browsing.assert_no_problems("used link")


def test_a_new_address_is_confirmed_through_the_mailed_link(
    browsing: Browsing, mailbox: Mailbox, second_account: str
) -> None:
    page, live = browsing.page, browsing.live
    before = len(mailbox.messages)
    new_address = f"new-{secrets.token_hex(4)}@example.com"
    password = PASSWORD
    with browsing.step("change the address on the profile page"):
        page.goto(live.issuer + "/account/login")
        sign_in(browsing, second_account, password)
        page.goto(live.issuer + "/account/profile")
        page.get_by_label("New email address").fill(new_address)
        page.locator("#email_current_password").fill(password)
        page.get_by_role("button", name="Change email address").click()
        expect(page.get_by_role("status")).to_contain_text("Your email address was changed.")
        expect(page.locator("#email-status")).to_have_text(
            f"Your address {new_address} is not confirmed yet."
        )
        browsing.assert_no_problems("profile page")
        browsing.assert_accessible("profile page")
    with browsing.step("open the link from the mail and confirm"):
        message = mailbox.wait(before + 1)[before]
        assert message["To"] == new_address
        page.goto(live.issuer + link_in(message))
        expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
        browsing.assert_accessible("confirmation page")
        page.get_by_role("button", name="Confirm my address").click()
        expect(page.get_by_role("status")).to_have_text(f"Your address {new_address} is confirmed.")
        browsing.assert_no_problems("confirmation page")
    with browsing.step("the profile shows the address confirmed"):
        page.goto(live.issuer + "/account/profile")
        expect(page.locator("#email-status")).to_have_text(
            f"Your address {new_address} is confirmed."
        )
