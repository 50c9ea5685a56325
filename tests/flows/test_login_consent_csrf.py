"""CSRF on the login and consent forms (T-22), and consent bound to the pending request
(T-23).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support.flow import RP, Flow, hidden
from tests.support.login_consent import CB, CB2, STATE, consent_page, login_page, post_form
from tests.support.login_consent_checks import assert_page, assert_rp_redirect
from tests.support.login_consent_rows import code_rows, consent_rows, logged_in_sessions

# -- CSRF (T-22) -------------------------------------------------------------------------


def _foreign_token(flow: Flow, provider: Provider, kind: str, path: str) -> dict[str, str | None]:
    """Form fields for browser ``flow.app`` whose CSRF token is wrong in the way ``kind`` says."""
    if kind == "missing":
        return {"csrf_token": None}
    if kind == "wrong":
        return {"csrf_token": "0" * 64}
    if kind == "other-session":
        other = Flow(new_app(provider), flow.client, flow.user)
        page = login_page(other) if path == "/login" else consent_page(other)
        return {"csrf_token": hidden(page, "csrf_token")}
    assert kind == "other-interaction"  # same browser, a second pending request
    page = (
        login_page(flow)
        if path == "/login"
        else flow.app.get(flow.start(scope="openid").headers["Location"])
    )
    return {"csrf_token": hidden(page, "csrf_token")}


CSRF_CASES = ["missing", "wrong", "other-session", "other-interaction"]


@pytest.mark.parametrize("kind", CSRF_CASES)
def test_login_without_valid_csrf_token_is_refused(
    flow: Flow, provider: Provider, kind: str
) -> None:
    """T-22 (R-CS-1): 403, nobody signed in; the genuine form still works afterwards."""
    page = login_page(flow)
    fields = _foreign_token(flow, provider, kind, "/login")
    response = post_form(
        flow.app, "/login", page, email=flow.user.email, password=flow.user.password, **fields
    )
    assert_page(response, 403)
    assert logged_in_sessions(provider) == 0
    assert code_rows(provider) == 0
    assert flow.login(page).status_int == 303


@pytest.mark.parametrize("kind", CSRF_CASES)
def test_consent_without_valid_csrf_token_is_refused(
    flow: Flow, provider: Provider, kind: str
) -> None:
    """T-22 (R-CS-1): 403, no code and no consent; the genuine form still works afterwards."""
    page = consent_page(flow)
    fields = _foreign_token(flow, provider, kind, "/consent")
    response = post_form(flow.app, "/consent", page, decision="allow", **fields)
    assert_page(response, 403)
    assert code_rows(provider) == 0
    assert consent_rows(provider) == 0
    assert "code" in assert_rp_redirect(flow.consent(page))


@pytest.mark.parametrize("path", ["/login", "/consent"])
def test_form_replayed_from_another_browser_is_refused(
    flow: Flow, provider: Provider, path: str
) -> None:
    """T-22: login/consent CSRF: the attacker's complete form posted from the victim's browser."""
    page = login_page(flow) if path == "/login" else consent_page(flow)
    victim = Flow(new_app(provider), flow.client, flow.user)
    login_page(victim)  # the victim has a session of their own
    fields = {"email": flow.user.email, "password": flow.user.password, "decision": "allow"}
    response = post_form(victim.app, path, page, **fields)
    assert_page(response, 403)
    assert code_rows(provider) == 0
    assert logged_in_sessions(provider) == (1 if path == "/consent" else 0)


@pytest.mark.parametrize("path", ["/login", "/consent"])
def test_form_without_session_cookie_is_refused(flow: Flow, provider: Provider, path: str) -> None:
    """T-22: no session at all: refused, nothing created."""
    page = login_page(flow) if path == "/login" else consent_page(flow)
    fields = {"email": flow.user.email, "password": flow.user.password, "decision": "allow"}
    response = post_form(new_app(provider), path, page, **fields)
    assert response.status_int in (400, 403)
    assert_page(response, response.status_int)
    assert code_rows(provider) == 0
    assert logged_in_sessions(provider) == (1 if path == "/consent" else 0)


@pytest.mark.parametrize("path", ["/login", "/consent"])
def test_pages_of_another_browser_are_not_shown(flow: Flow, provider: Provider, path: str) -> None:
    """T-22: a pending request belongs to the browser that started it (links cannot be shared)."""
    response = flow.start()
    if path == "/consent":
        response = flow.login(flow.app.get(response.headers["Location"]))
    url = response.headers["Location"]
    assert url.startswith(flow.issuer + path + "?interaction=")
    other = Flow(new_app(provider), flow.client, flow.user)
    login_page(other)
    for browser in (other.app, new_app(provider)):
        page = browser.get(url, expect_errors=True)
        assert_page(page, 400)
        assert "csrf_token" not in page.text


@pytest.mark.parametrize("interaction", ["", "unknown", "x" * 65])
def test_unknown_interaction_is_a_page(flow: Flow, interaction: str) -> None:
    """T-22: no pending request, no form."""
    login_page(flow)
    for path in ("/login", "/consent"):
        page = flow.app.get(
            path + "?" + urlencode({"interaction": interaction}), expect_errors=True
        )
        assert_page(page, 400)


# -- consent is bound to the pending request (T-23) ---------------------------------------


@pytest.mark.parametrize(
    "tampered",
    [
        {"client_id": "CLIENT_B"},
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": CB2},
        {"scope": "openid profile email"},
        {"state": "attacker"},
        {
            "client_id": "CLIENT_B",
            "redirect_uri": "https://rp-b.example/cb",
            "scope": "openid email",
        },
    ],
    ids=["client_id", "evil-uri", "other-registered-uri", "scope", "state", "all"],
)
def test_consent_post_cannot_change_the_request(
    flow: Flow, provider: Provider, client_b: RP, tampered: dict[str, str]
) -> None:
    """T-23 (R-CS-1, obsidian-mcp #4): fields added to the consent POST are ignored."""
    if tampered.get("client_id") == "CLIENT_B":
        tampered = {**tampered, "client_id": client_b.client_id}
    page = consent_page(flow, scope="openid", state=STATE)
    callback = assert_rp_redirect(
        post_form(flow.app, "/consent", page, decision="allow", **tampered)
    )
    assert callback["state"] == STATE
    rows = provider.storage.database.execute_sql(
        "SELECT c.client_id, a.redirect_uri, a.scopes FROM oidc_authorization_code a "
        "JOIN oidc_client c ON a.client_id = c.id"
    ).fetchall()
    assert [tuple(r) for r in rows] == [(flow.client.client_id, CB, "openid")]
    assert flow.token(callback["code"]).json["scope"] == "openid"


def test_login_post_cannot_change_the_request(flow: Flow, provider: Provider) -> None:
    """T-23: the same for the login form (which issues the code when consent is remembered)."""
    flow.authorize(scope="openid")
    page = login_page(flow, scope="openid", prompt="login", state=STATE)
    response = post_form(
        flow.app,
        "/login",
        page,
        email=flow.user.email,
        password=flow.user.password,
        redirect_uri="https://evil.example/cb",
        scope="openid email",
    )
    callback = assert_rp_redirect(response)
    assert callback["state"] == STATE
    assert flow.token(callback["code"]).json["scope"] == "openid"
