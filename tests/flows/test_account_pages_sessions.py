"""The sessions on the account pages: listing them, signing one out or all of them."""

from __future__ import annotations

import re

import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import make_client, new_app
from tests.support.account_pages import FIREFOX, PHONE, browser, csrf, post, session_rows
from tests.support.flow import RP, Account, Flow, issuer_of


def count(provider: Provider, sql: str) -> int:
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


# -- sessions -------------------------------------------------------------------------------


def test_sessions_list_browser_address_and_this_browser(
    provider: Provider, alice: Account, bob: Account
) -> None:
    laptop = browser(provider, alice, FIREFOX)
    phone = browser(provider, alice, PHONE, "2001:db8::7")
    browser(provider, bob)
    page = laptop.get("/account/sessions")
    rows = session_rows(page)
    assert len(rows) == 2  # bob's session is not alice's
    current = [row for row in rows if "This browser" in row]
    assert len(current) == 1 and "Firefox on Linux" in current[0]
    other = next(row for row in rows if "This browser" not in row)
    assert "Safari on iOS" in other and f'title="{PHONE}"' in other
    assert ">Sign out</button>" in other
    assert '<td data-label="IP address">2001:db8::7</td>' in other
    assert '<td data-label="IP address">192.0.2.10</td>' in current[0]
    assert phone.get("/account/sessions").status_int == 200


def test_signing_out_another_session(provider: Provider, alice: Account, bob: Account) -> None:
    laptop = browser(provider, alice)
    phone = browser(provider, alice, PHONE)
    bobs = browser(provider, bob)
    action = re.search(
        r'action="[^"]*(/account/sessions/[0-9]+/end)"', laptop.get("/account/sessions").text
    )
    assert action
    response = post(laptop, action.group(1), token=csrf(laptop, "/account/sessions"))
    assert response.status_int == 303
    assert "The session was signed out." in laptop.get(response.headers["Location"]).text
    assert phone.get("/account/").status_int == 303
    assert laptop.get("/account/").status_int == 200

    bobs_id = re.search(
        r"/account/sessions/([0-9]+)/end", browser(provider, bob).get("/account/sessions").text
    )
    assert bobs_id
    idor = post(laptop, f"/account/sessions/{bobs_id.group(1)}/end", token=csrf(laptop))
    assert idor.status_int == 404
    assert bobs.get("/account/").status_int == 200


def test_sign_out_everywhere_ends_every_session_of_the_user(
    provider: Provider, storage: Storage, alice: Account, bob: Account
) -> None:
    rp = make_client(
        storage, "App A", ["https://a.example/cb"], backchannel_logout_uri="https://a.example/bc"
    )
    laptop = new_app(provider)
    assert "code" in Flow(laptop, rp, alice).authorize()
    phone = browser(provider, alice, PHONE)
    bobs = browser(provider, bob)
    assert post(laptop, "/account/sessions/end-all", token=None).status_int == 403
    response = post(laptop, "/account/sessions/end-all", token=csrf(laptop, "/account/sessions"))
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(laptop) + "/account/login"
    assert laptop.get("/account/").status_int == 303
    assert phone.get("/account/").status_int == 303
    assert bobs.get("/account/").status_int == 200
    assert count(provider, "SELECT COUNT(*) FROM oidc_backchannel_delivery") == 1


def test_a_session_records_its_browser_and_address_at_every_sign_in(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    app.extra_environ.update(HTTP_USER_AGENT="x" * 600, REMOTE_ADDR="198.51.100.4")
    Flow(app, client_a, alice).authorize()
    rows = provider.storage.database.execute_sql(
        "SELECT user_agent, ip_address FROM oidc_browser_session WHERE user_id IS NOT NULL"
    ).fetchall()
    assert [tuple(row) for row in rows] == [("x" * 512, "198.51.100.4")]
    page = app.get("/account/sessions")
    assert "This browser" in page.text and "x" * 59 + "…" in page.text
