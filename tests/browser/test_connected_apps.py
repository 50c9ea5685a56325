"""A user in headless Chromium revokes an app under "Connected apps" (issue 6).

After signing in and allowing the app (which gets a refresh token and refreshes once), the
user opens their account, finds the app under "Connected apps" and revokes its access: the
client's refresh token and access token stop working.  The account pages must log no console
error and no CSP violation.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Browsing
from tests.browser.pages import fill_login_form, refreshed, sign_in_and_allow
from tests.browser.relying_party import refresh, userinfo_status

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_revoking_the_app_under_connected_apps_stops_its_tokens(browsing: Browsing) -> None:
    page, live = browsing.page, browsing.live
    latest = refreshed(browsing, sign_in_and_allow(browsing)["refresh_token"])

    with browsing.step("open the account page"):
        page.goto(live.issuer + "/account/")
        if page.url.split("?")[0].endswith("/account/login"):
            fill_login_form(browsing)
        expect(page.get_by_role("heading", name="Connected apps", level=1)).to_be_visible()
        app = page.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name=live.name, exact=True)
        )
        expect(app).to_have_count(1)
        revoke = app.get_by_role("button", name=f"Revoke access for {live.name}", exact=True)
        expect(revoke).to_have_text("Revoke access")
        browsing.assert_no_problems("account page")
        browsing.assert_accessible("account page")
    with browsing.step("revoke access"):
        revoke.click()
        expect(page.get_by_role("status")).to_have_text(f"Access for {live.name} was revoked.")
        expect(app).to_have_count(0)
        browsing.assert_no_problems("account page after revoking")

    with browsing.step("the client's tokens no longer work"):
        response = refresh(live, latest["refresh_token"])
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_grant"
        assert userinfo_status(live, latest["access_token"]) == 401
