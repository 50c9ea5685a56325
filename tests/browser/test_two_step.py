"""A user in headless Chromium sets up an authenticator app on the account pages, signs in
to an app with its codes, and later with a recovery code (issue 16).

The secret is read from the page's text and the codes computed with pyotp, as the
authenticator app on a phone would.  The pages must log no console error and no CSP
violation (the QR code is inline SVG), and pass axe-core's WCAG checks.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Browsing
from tests.browser.pages import fill_login_form
from tests.browser.relying_party import (
    authorization_request,
    code_from,
    exchange,
    verified_id_token,
)
from tests.support.mfa import Authenticator

pytestmark = [pytest.mark.server, pytest.mark.browser]


def sign_out(browsing: Browsing) -> None:
    page = browsing.page
    page.goto(browsing.live.issuer + "/account/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()


def test_chromium_sets_up_an_authenticator_app_and_signs_in_with_it(browsing: Browsing) -> None:
    page, live = browsing.page, browsing.live
    with browsing.step("sign in to the account pages"):
        page.goto(live.issuer + "/account/security")
        fill_login_form(browsing)
        page.goto(live.issuer + "/account/security")
        expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()
        expect(page.locator("#totp-status")).to_have_text("Two-step verification is off.")
    with browsing.step("set up the authenticator app"):
        page.get_by_role("button", name="Set up an authenticator app").click()
        expect(page.locator("figure.qr svg")).to_be_visible()
        device = Authenticator(page.locator("#totp-secret").inner_text().replace(" ", ""))
        browsing.assert_no_problems("set-up page")
        browsing.assert_accessible("set-up page")
        page.get_by_label("Code from the app").fill(device.code())
        page.get_by_role("button", name="Turn on").click()
        codes = page.locator("#recovery-codes code").all_inner_texts()
        assert len(codes) == 10, codes
        browsing.assert_no_problems("recovery codes")
        page.get_by_role("link", name="Done").click()
        expect(page.locator("#totp-status")).to_contain_text("Two-step verification is on.")
        sign_out(browsing)

    request = authorization_request(live)
    with browsing.step("sign in to the app: password, then the app's code"):
        page.goto(request.url)
        fill_login_form(browsing)
        expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
        browsing.assert_no_problems("second-factor page")
        browsing.assert_accessible("second-factor page")
        page.get_by_label("Code").fill(device.code())
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", name=live.name)).to_be_visible()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(lambda url: url.startswith(live.redirect_uri + "?"))
        tokens = exchange(live, request, code_from(live, request, browsing.callbacks[-1]))
        claims = verified_id_token(live, tokens["id_token"], request.nonce)
        assert claims["sub"]
        browsing.assert_no_problems("after the second factor")

    with browsing.step("sign in to the account pages with a recovery code"):
        sign_out(browsing)
        page.goto(live.issuer + "/account/login")
        fill_login_form(browsing)
        page.get_by_label("Code").fill(codes[0])
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", name="Connected apps", level=1)).to_be_visible()
        page.goto(live.issuer + "/account/security")
        expect(page.locator("#recovery-status")).to_contain_text("Recovery codes left: 9")
        browsing.assert_no_problems("signed in with a recovery code")
