"""Chromium adds a passkey on the account pages and signs in with it, without a password,
through an authorization request (issue 16).

The authenticator is Chromium's own virtual one (DevTools protocol ``WebAuthn``: CTAP2,
internal transport, resident keys, user verification), so the pages' script, the browser's
WebAuthn and the provider's checks all run for real.  The issuer is on ``localhost``:
browsers refuse an IP address as RP ID.  No page may log a console error or a CSP
violation, and the pages stay accessible.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import CDPSession, expect

from tests.browser.browsing import Browsing
from tests.browser.conftest import live_app
from tests.browser.relying_party import (
    LiveApp,
    authorization_request,
    code_from,
    exchange,
    userinfo,
    verified_id_token,
)

pytestmark = [pytest.mark.server, pytest.mark.browser]

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture  # a provider and user per test: a user with a passkey has a second step
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory, request, host="localhost") as app:
        yield app


def virtual_authenticator(browsing: Browsing) -> tuple[CDPSession, str]:
    cdp = browsing.page.context.new_cdp_session(browsing.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, str(added["authenticatorId"])


def credentials(cdp: CDPSession, authenticator: str) -> list[dict[str, Any]]:
    found = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    return list(found["credentials"])


# Chromium's virtual authenticator answers a conditional request (the email field's
# autofill) at once, as a person picking the passkey there would; to press the button
# instead, the page is told the browser has no autofill for passkeys.
NO_AUTOFILL = """
if (window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = async () => false;
}
"""


@pytest.mark.parametrize("way", ["button", "autofill"])
def test_chromium_adds_a_passkey_and_signs_in_with_it_without_a_password(
    browsing: Browsing, way: str
) -> None:
    page, live = browsing.page, browsing.live
    assert live.issuer.startswith("http://localhost:")
    cdp, authenticator = virtual_authenticator(browsing)
    with browsing.step("sign in to the account pages with the password"):
        page.goto(live.issuer + "/account/login")
        page.get_by_label("Email").fill(live.email)
        page.get_by_label("Password").fill(live.password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="Connected apps")).to_be_visible()
    with browsing.step("add a passkey"):
        page.get_by_role("link", name="Passkeys").click()
        expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
        browsing.assert_accessible("passkeys page")
        page.get_by_label("Name", exact=True).fill("Virtual key")
        register = page.locator("#passkey-register")
        register.get_by_label("Your password, or a code").fill(live.password)
        expect(page.get_by_label("Use it to sign in without a password")).to_be_checked()
        page.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_text("The passkey was added.")).to_be_visible()
        names = page.get_by_role("textbox", name="Name of the passkey")
        expect(names.last).to_have_value("Virtual key")
        browsing.assert_no_problems("passkeys page")
        (credential,) = credentials(cdp, authenticator)
        assert credential["isResidentCredential"] is True
    page.context.clear_cookies()  # a new visit: nobody signed in
    request = authorization_request(live)
    with browsing.step(f"sign in with the passkey on the login page ({way})"):
        if way == "button":
            page.add_init_script(NO_AUTOFILL)
            page.goto(request.url)
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            email = page.get_by_label("Email address")
            assert email.get_attribute("autocomplete") == "username webauthn"
            browsing.assert_accessible("login page with passkeys")
            page.get_by_role("button", name="Sign in with a passkey").click()
        else:
            page.goto(request.url)
        expect(page.get_by_role("heading", name=live.name)).to_be_visible()
        browsing.assert_no_problems("login with a passkey")
    with browsing.step("allow, and the client gets an ID token for the user"):
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(lambda url: url.startswith(live.redirect_uri + "?"))
        code = code_from(live, request, browsing.callbacks[0])
        tokens = exchange(live, request, code)
        claims = verified_id_token(live, tokens["id_token"], request.nonce)
        profile = userinfo(live, tokens["access_token"])
        assert (profile["sub"], profile["email"]) == (claims["sub"], live.email)
        (used,) = credentials(cdp, authenticator)
        assert used["signCount"] > credential["signCount"]
        browsing.assert_no_problems("after consent")
