"""A user in headless Chromium signs in and consents; the client's tokens work (issue 6).

The relying party asks for ``offline_access``; the user signs in and allows it on the
provider's pages, the client exchanges the code (PKCE, ``client_secret_basic``), verifies the
ID token with PyJWT and refreshes.  The login and consent pages must log no console error and
no CSP violation.
"""

from __future__ import annotations

import pytest

from tests.browser.browsing import Browsing
from tests.browser.pages import refreshed, sign_in_and_allow
from tests.browser.relying_party import userinfo, userinfo_status, verified_id_token

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_chromium_signs_in_and_consents_and_the_client_gets_tokens_that_refresh(
    browsing: Browsing,
) -> None:
    live = browsing.live
    tokens = sign_in_and_allow(browsing)
    assert set(tokens["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    profile = userinfo(live, tokens["access_token"])
    assert profile["sub"] == tokens["claims"]["sub"]
    assert profile["email"] == live.email

    again = refreshed(browsing, tokens["refresh_token"])
    claims = verified_id_token(live, again["id_token"], nonce=None)
    assert claims["sub"] == tokens["claims"]["sub"]
    assert userinfo_status(live, again["access_token"]) == 200
