"""Connected apps on the account pages: what they show and revoking one (T-56, T-57)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import jwt
import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from oidc_core.ui.render import iso
from tests.conftest import make_client, new_app
from tests.support.account_pages import alive, app_names, browser, csrf, offline_rp, revoke, tokens
from tests.support.flow import RP, Account, Flow, issuer_of
from tests.support.tokens import OFFLINE_SCOPES, userinfo_status

# -- connected apps -------------------------------------------------------------------------


def test_an_account_without_apps_says_so(provider: Provider, alice: Account) -> None:
    page = browser(provider, alice).get("/account/")
    assert "No apps have access to your account." in page.text


def test_connected_apps_show_logo_name_url_scopes_and_dates(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice, scope="openid email")
    assert flow.token(flow.authorize()["code"]).status_int == 200
    page = app.get("/account/")
    assert app_names(page) == ["Client A"]
    assert '<img src="https://rp.example/logo.png"' in page.text
    assert "https://rp.example" in page.text
    scopes = re.findall(r"<li>([^<]+)</li>", page.text)
    assert scopes == ["Sign you in and know it is you", "Your email address"]
    assert "Your name, username and language" not in page.text  # not granted
    assert page.text.count("<time datetime=") == 2  # first authorized, last used
    assert ">Revoke access</button>" in page.text
    assert 'aria-label="Revoke access for Client A"' in page.text
    assert "No apps have access" not in page.text


def test_a_first_party_app_with_live_tokens_is_listed_without_a_consent(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    panel = make_client(storage, "Control panel", ["https://panel.example/cb"], skip_consent=True)
    flow = Flow(app, panel, alice)
    body = flow.token(flow.authorize()["code"]).json
    assert count_consents(storage) == 0
    assert app_names(app.get("/account/")) == ["Control panel"]

    assert revoke(app, panel.client_id).status_int == 303
    assert userinfo_status(app, body["access_token"]) == 401
    assert app_names(app.get("/account/")) == []


def count_consents(storage: Storage) -> int:
    return int(storage.database.execute_sql("SELECT COUNT(*) FROM oidc_consent").fetchone()[0])


def test_t56_revoking_an_app_ends_its_tokens_for_this_user_only(
    provider: Provider, storage: Storage, alice: Account, bob: Account
) -> None:
    rp_a = offline_rp(storage, "App A", "a.example")
    rp_b = offline_rp(storage, "App B", "b.example")
    alice_browser, bob_browser = new_app(provider), new_app(provider)
    alice_a = tokens(alice_browser, rp_a, alice)
    alice_b = tokens(alice_browser, rp_b, alice)
    bob_a = tokens(bob_browser, rp_a, bob)
    assert app_names(alice_browser.get("/account/")) == ["App A", "App B"]

    response = revoke(alice_browser, rp_a.client_id)
    assert response.status_int == 303
    assert response.headers["Location"] == (
        issuer_of(alice_browser) + f"/account/?revoked={rp_a.client_id}"
    )
    page = alice_browser.get(response.headers["Location"])
    assert "Access for App A was revoked." in page.text
    assert app_names(page) == ["App B"]

    assert alive(alice_browser, rp_a, alice_a) == dict.fromkeys(
        ("userinfo", "introspect_access", "introspect_refresh", "refresh"), False
    )
    assert all(alive(alice_browser, rp_b, alice_b).values())
    assert all(alive(bob_browser, rp_a, bob_a).values())
    assert app_names(bob_browser.get("/account/")) == ["App A"]

    again = Flow(alice_browser, rp_a, alice, scope=OFFLINE_SCOPES).start()
    assert urlsplit(again.headers["Location"]).path.endswith("/consent")  # asked again


def test_the_revoked_notice_names_only_an_app_looked_up(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    app = browser(provider, alice)
    assert "was revoked" not in app.get("/account/?revoked=<b>Evil</b>").text
    assert "was revoked" not in app.get("/account/?revoked=%FF").text
    rp = offline_rp(storage, "App A", "a.example")
    assert "Access for App A was revoked." in app.get(f"/account/?revoked={rp.client_id}").text


def test_revoking_queues_a_back_channel_logout_token_for_the_app(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(
        storage, "App A", "a.example", backchannel_logout_uri="https://a.example/bc-logout"
    )
    app = new_app(provider)
    tokens(app, rp, alice)
    assert revoke(app, rp.client_id).status_int == 303
    rows = storage.database.execute_sql(
        "SELECT logout_token FROM oidc_backchannel_delivery"
    ).fetchall()
    assert len(rows) == 1
    claims = jwt.decode(rows[0][0], options={"verify_signature": False})
    assert claims["aud"] == rp.client_id and claims["sub"] == alice.subject
    assert "sid" not in claims and "nonce" not in claims


def test_t57_revoking_another_users_grant_or_an_unknown_app_is_not_found(
    provider: Provider, storage: Storage, alice: Account, bob: Account
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    bob_tokens = tokens(new_app(provider), rp, bob)
    app = browser(provider, alice)
    for client_id in (rp.client_id, "no-such-client", "%2F..%2Fadmin"):
        response = revoke(app, client_id)
        assert response.status_int == 404, client_id
    assert "This app has no access to your account." in revoke(app, rp.client_id).text
    assert all(alive(app, rp, bob_tokens).values())


@pytest.mark.parametrize("token", [None, "0" * 64, "forged"])
def test_t57_revoking_without_this_sessions_csrf_token_is_forbidden(
    provider: Provider, storage: Storage, alice: Account, token: str | None
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    app = new_app(provider)
    body = tokens(app, rp, alice)
    response = revoke(app, rp.client_id, token=token)
    assert response.status_int == 403
    assert app_names(app.get("/account/")) == ["App A"]
    assert count_consents(storage) == 1
    assert all(alive(app, rp, body).values())


def test_t57_a_csrf_token_of_another_session_does_not_work(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(storage, "App A", "a.example")
    app = new_app(provider)
    tokens(app, rp, alice)
    other = browser(provider, alice)
    assert revoke(app, rp.client_id, token=csrf(other)).status_int == 403
    assert count_consents(storage) == 1


def test_first_authorized_and_last_used_come_from_the_grant_and_the_latest_token(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice)
    for _ in range(2):
        assert flow.token(flow.authorize()["code"]).status_int == 200
    db = provider.storage.database
    db.execute_sql("UPDATE oidc_consent SET first_granted_at = 1000000000")
    db.execute_sql(
        "UPDATE oidc_access_token SET created_at = 1500000000 WHERE id = "
        "(SELECT MIN(id) FROM oidc_access_token)"
    )
    latest = db.execute_sql("SELECT MAX(created_at) FROM oidc_access_token").fetchone()[0]
    page = app.get("/account/")
    times = re.findall(r'<time datetime="([^"]+)"', page.text)
    assert times == ["2001-09-09T01:46:40Z", iso(latest)]


def test_an_expired_consent_without_live_tokens_is_not_listed(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    assert "code" in Flow(app, client_a, alice).authorize()  # a consent, no token yet
    assert app_names(app.get("/account/")) == ["Client A"]
    provider.storage.database.execute_sql("UPDATE oidc_consent SET expires_at = 1")
    assert app_names(app.get("/account/")) == []


def test_revoking_an_app_that_requires_sid_sends_one_token_per_session(
    provider: Provider, storage: Storage, alice: Account
) -> None:
    rp = offline_rp(
        storage,
        "App A",
        "a.example",
        backchannel_logout_uri="https://a.example/bc-logout",
        backchannel_logout_session_required=True,
    )
    sids = set()
    for _ in range(2):  # two browsers: two sessions
        body = tokens(new_app(provider), rp, alice)
        sids.add(jwt.decode(body["id_token"], options={"verify_signature": False})["sid"])
    app = browser(provider, alice)
    assert revoke(app, rp.client_id).status_int == 303
    rows = storage.database.execute_sql(
        "SELECT logout_token FROM oidc_backchannel_delivery"
    ).fetchall()
    claims = [jwt.decode(row[0], options={"verify_signature": False}) for row in rows]
    assert {c["sid"] for c in claims} == sids and len(claims) == 2
    assert {c["sub"] for c in claims} == {alice.subject}
