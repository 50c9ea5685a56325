"""prompt=none (T-19) and the session cookie (T-20) of the login and consent pages."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import webtest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support.flow import RP, Flow, query_of
from tests.support.login_consent import CB, STATE
from tests.support.login_consent_rows import code_rows, count

COOKIE = "oidc_session"


def session_cookie(response: webtest.TestResponse) -> SimpleCookie:
    cookies = [c for c in response.headers.getall("Set-Cookie") if c.startswith(COOKIE + "=")]
    assert len(cookies) == 1, response.headers.getall("Set-Cookie")
    jar = SimpleCookie()
    jar.load(cookies[0])
    return jar


# -- prompt=none (T-19) ------------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(flow: Flow, provider: Provider) -> None:
    """T-19: an error redirect, no page, no session created."""
    response = flow.start(prompt="none", state=STATE)
    assert response.status_int == 302
    callback = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(CB + "?error=login_required&")
    assert (callback["state"], callback["iss"]) == (STATE, flow.issuer)
    assert "code" not in callback
    assert "Set-Cookie" not in response.headers
    assert count(provider, "SELECT COUNT(*) FROM oidc_pending_authorization") == 0


def test_prompt_none_logged_in_without_consent_is_consent_required(
    flow: Flow, provider: Provider, client_b: RP
) -> None:
    """T-19: the browser is signed in (through client B) but never consented to client A."""
    Flow(flow.app, client_b, flow.user).authorize()
    assert code_rows(provider) == 1
    response = flow.start(prompt="none", state=STATE)
    assert response.status_int == 302
    assert response.headers["Location"].startswith(CB + "?error=consent_required&")
    callback = query_of(response.headers["Location"])
    assert (callback["state"], callback["iss"]) == (STATE, flow.issuer)
    assert code_rows(provider) == 1


def test_prompt_none_with_wider_scope_than_consented_is_consent_required(flow: Flow) -> None:
    """T-19: consent for ``openid`` does not cover ``openid email``."""
    flow.authorize(scope="openid")
    response = flow.start(prompt="none", scope="openid email", state=STATE)
    assert response.headers["Location"].startswith(CB + "?error=consent_required&")


def test_prompt_none_logged_in_and_consented_issues_code_at_once(flow: Flow) -> None:
    """T-19: signed in and consented: the code comes at once."""
    flow.authorize()
    response = flow.start(prompt="none", state=STATE)
    assert response.status_int == 302
    callback = query_of(response.headers["Location"])
    assert set(callback) == {"code", "state", "iss"}
    assert callback["state"] == STATE
    assert flow.token(callback["code"]).status_int == 200


# -- the session cookie (T-20) -----------------------------------------------------------


def test_session_cookie_is_secure_httponly_lax(flow: Flow) -> None:
    """T-20: Secure, HttpOnly, SameSite=Lax, before and after login."""
    response = flow.start()
    before = session_cookie(response)[COOKIE]
    page = flow.app.get(response.headers["Location"])
    after = session_cookie(flow.login(page))[COOKIE]
    for morsel in (before, after):
        assert morsel["secure"] is True
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["path"] == (urlsplit(flow.issuer).path or "/")


def test_session_id_changes_at_login(flow: Flow) -> None:
    """T-20: session fixation defence: a new cookie value when the user signs in."""
    response = flow.start()
    before = session_cookie(response)[COOKIE].value
    after = session_cookie(flow.login(flow.app.get(response.headers["Location"])))[COOKIE].value
    assert before and after and before != after


def test_pre_login_cookie_is_useless_after_login(flow: Flow, provider: Provider) -> None:
    """T-20: an attacker who planted (or read) the pre-login cookie gains nothing."""
    response = flow.start()
    before = session_cookie(response)[COOKIE].value
    page = flow.app.get(response.headers["Location"])
    login = flow.login(page)
    after = session_cookie(login)[COOKIE].value
    flow.consent(flow.app.get(login.headers["Location"]))
    query = "/authorize?" + urlencode(flow.authorize_params(prompt="none"))
    for cookie, expected in ((before, "error=login_required"), (after, "code=")):
        other = new_app(provider)
        response = other.get(query, headers={"Cookie": f"{COOKIE}={cookie}"})
        assert expected in response.headers["Location"]
