"""The user's side of the browser tests: the provider's pages, as a person uses them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.browsing import Browsing
from tests.browser.relying_party import (
    authorization_request,
    code_from,
    exchange,
    refresh,
    verified_id_token,
)


def fill_login_form(browsing: Browsing) -> None:
    page, live = browsing.page, browsing.live
    page.get_by_label("Email").fill(live.email)
    page.get_by_label("Password").fill(live.password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_and_allow(browsing: Browsing) -> dict[str, Any]:
    """From the authorization URL to the client's tokens; the ID token's claims included."""
    page, live = browsing.page, browsing.live
    request = authorization_request(live)
    with browsing.step("open the authorization URL"):
        page.goto(request.url)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        browsing.assert_no_problems("login page")
        browsing.assert_accessible("login page")
    with browsing.step("sign in"):
        fill_login_form(browsing)
        expect(page.get_by_role("heading", name=live.name)).to_be_visible()
        browsing.assert_no_problems("consent page")
        browsing.assert_accessible("consent page")
    with browsing.step("allow"):
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(lambda url: url.startswith(live.redirect_uri + "?"))
        browsing.assert_no_problems("after consent")
        assert len(browsing.callbacks) == 1, browsing.callbacks
    with browsing.step("exchange the code"):
        code = code_from(live, request, browsing.callbacks[0])
        tokens = exchange(live, request, code)
        tokens["claims"] = verified_id_token(live, tokens["id_token"], request.nonce)
    return tokens


def refreshed(browsing: Browsing, refresh_token: str) -> dict[str, Any]:
    with browsing.step("refresh"):
        response = refresh(browsing.live, refresh_token)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        assert tokens["refresh_token"] != refresh_token  # rotated
        return tokens
