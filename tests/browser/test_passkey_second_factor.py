"""Chromium adds a security key (not for signing in without a password) on the account
pages, then signs in to an app with the password and, on the second-factor page, "Use a
passkey" (issue 16).

The key is Chromium's virtual authenticator (DevTools protocol ``WebAuthn``): a USB
CTAP2 key without resident keys or user verification, so the ID token says ``pwd hwk
mfa``, acr ``phr``.  The issuer is on ``localhost`` (browsers refuse an IP address as RP
ID).  No page may log a console error or a CSP violation, and the pages stay accessible.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Browsing
from tests.browser.conftest import live_app
from tests.browser.relying_party import (
    LiveApp,
    authorization_request,
    code_from,
    exchange,
    verified_id_token,
)
from tests.browser.test_passkeys import credentials
from tests.browser.test_two_step import sign_out

pytestmark = [pytest.mark.server, pytest.mark.browser]

SECURITY_KEY = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": False,
    "hasUserVerification": False,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, request, host="localhost") as app:
        yield app


def test_chromium_signs_in_with_the_password_then_a_security_key(browsing: Browsing) -> None:
    page, live = browsing.page, browsing.live
    assert live.issuer.startswith("http://localhost:")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": SECURITY_KEY})
    authenticator = str(added["authenticatorId"])
    with browsing.step("sign in to the account pages with the password"):
        page.goto(live.issuer + "/account/login")
        page.get_by_label("Email").fill(live.email)
        page.get_by_label("Password").fill(live.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Connected apps")).to_be_visible()
    with browsing.step("add a security key, not for signing in without a password"):
        page.get_by_role("link", name="Passkeys").click()
        page.get_by_label("Name", exact=True).fill("USB key")
        register = page.locator("#passkey-register")
        register.get_by_label("Your password, or a code").fill(live.password)
        page.get_by_label("Use it to sign in without a password").uncheck()
        page.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_text("The passkey was added.")).to_be_visible()
        (credential,) = credentials(cdp, authenticator)
        assert credential["isResidentCredential"] is False
        browsing.assert_no_problems("passkeys page")
        sign_out(browsing)

    request = authorization_request(live)
    with browsing.step("sign in to the app: password, then the security key"):
        page.goto(request.url)
        page.get_by_label("Email address").fill(live.email)
        page.get_by_label("Password").fill(live.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
        expect(page.get_by_text("Use your passkey or security key")).to_be_visible()
        button = page.get_by_role("button", name="Use a passkey")
        expect(button).to_be_visible()
        browsing.assert_accessible("second-factor page with a passkey")
        browsing.assert_no_problems("second-factor page with a passkey")
        button.click()
        expect(page.get_by_role("heading", name=live.name)).to_be_visible()
        browsing.assert_no_problems("after the security key")
    with browsing.step("allow: the ID token says password and hardware key"):
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(lambda url: url.startswith(live.redirect_uri + "?"))
        tokens = exchange(live, request, code_from(live, request, browsing.callbacks[-1]))
        claims = verified_id_token(live, tokens["id_token"], request.nonce)
        assert claims["amr"] == ["hwk", "mfa", "pwd"] and claims["acr"] == "phr"
        (used,) = credentials(cdp, authenticator)
        assert used["signCount"] > credential["signCount"]
