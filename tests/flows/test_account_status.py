"""Account status (docs/administration.md "Account status"): what suspending, closing and
activating an account does, through HTTP against the real provider and database.

SECURITY-CHECKLIST ACC-1..ACC-7.  The status is changed through the management API, as a
billing system would (the CLI and the console go through the same function and have tests
of their own).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import webtest

from oidc_core import Provider, Settings, account_status
from oidc_core.accounts import Account as SourceAccount
from oidc_core.interactions.login import GENERIC_FAILURE
from oidc_core.storage import Storage
from oidc_core.testing import create_user, register_client, run_code_flow
from tests.conftest import make_user, new_app
from tests.flows.test_backchannel_logout import verify_logout_token
from tests.flows.test_bearer import HOST_ISSUER, host_app
from tests.support import account_pages, admin_console
from tests.support.account_status import count, set_status, silently
from tests.support.cli import Cli
from tests.support.flow import RP, Account, Flow, hidden, query_of
from tests.support.receiver import Receiver
from tests.support.token_endpoint import assert_error
from tests.support.tokens import refresh

pytestmark = pytest.mark.mounts("one")

SIGNED_IN = "SELECT COUNT(*) FROM oidc_browser_session WHERE user_id IS NOT NULL"


@pytest.fixture
def rp(storage: Storage) -> RP:
    return account_pages.offline_rp(storage, "Billing portal", "portal.example")


def sign_in_refusals(app: webtest.TestApp, client: RP, user: Account) -> list[tuple[int, bool]]:
    """(status, shows the generic failure) on the three sign-in pages: an authorization
    request's login page, the account pages' and the console's."""
    flow = Flow(app, client, user)
    login = flow.login(app.get(flow.start().headers["Location"]))
    account = account_pages.sign_in(app, user.email, user.password)
    console = admin_console.sign_in(app, user.email, user.password)
    return [(page.status_int, GENERIC_FAILURE in page.text) for page in (login, account, console)]


def browser_at(provider: Provider, address: str) -> webtest.TestApp:
    browser = new_app(provider)
    browser.extra_environ["REMOTE_ADDR"] = address
    return browser


def test_a_suspended_account_cannot_sign_in_anywhere_and_looks_like_a_wrong_password(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account, bob: Account
) -> None:
    set_status(app, provider, alice, "suspended")
    refused = sign_in_refusals(browser_at(provider, "192.0.2.1"), client_a, alice)
    assert refused == [(401, True)] * 3
    wrong = dataclasses.replace(bob, password="not bob's password")
    assert sign_in_refusals(browser_at(provider, "192.0.2.2"), client_a, wrong) == refused
    assert count(provider, SIGNED_IN) == 0

    set_status(app, provider, alice, "active")
    assert "code" in Flow(new_app(provider), client_a, alice).authorize()


@pytest.mark.parametrize("access_token_format", ["opaque", "jwt"])
def test_suspension_stops_live_tokens_at_once_and_activation_restores_them(
    app: webtest.TestApp, provider: Provider, storage: Storage, alice: Account,
    access_token_format: str,
) -> None:  # fmt: skip
    rp = account_pages.offline_rp(
        storage, "Portal", "portal.example", access_token_format=access_token_format
    )
    body = account_pages.tokens(new_app(provider), rp, alice)
    assert account_pages.alive(app, rp, body) == dict.fromkeys(
        ("userinfo", "introspect_access", "introspect_refresh", "refresh"), True
    )
    body = account_pages.tokens(new_app(provider), rp, alice)

    set_status(app, provider, alice, "suspended")
    info = app.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"},
                   expect_errors=True)  # fmt: skip
    assert info.status_int == 401
    assert 'error="invalid_token"' in info.headers["WWW-Authenticate"]
    assert not account_pages.introspected(app, rp, body["access_token"])
    assert not account_pages.introspected(app, rp, body["refresh_token"])
    assert_error(refresh(app, rp, body["refresh_token"]), 400, "invalid_grant")

    set_status(app, provider, alice, "active")  # a customer who paid: the apps go on
    assert account_pages.alive(app, rp, body) == dict.fromkeys(
        ("userinfo", "introspect_access", "introspect_refresh", "refresh"), True
    )


def test_suspension_signs_the_account_out_of_every_browser_with_backchannel_logout(
    app: webtest.TestApp, provider: Provider, storage: Storage, alice: Account, receiver: Receiver
) -> None:
    rp = account_pages.offline_rp(
        storage, "Portal", "portal.example", backchannel_logout_uri=receiver.uri("/bc")
    )
    browsers = [Flow(new_app(provider), rp, alice) for _ in range(2)]
    for flow in browsers:
        assert "code" in flow.authorize()
    assert count(provider, SIGNED_IN) == 2

    set_status(app, provider, alice, "suspended")
    assert count(provider, SIGNED_IN) == 0
    receiver.wait_for(2)  # sent at once, once the change was committed
    for raw in receiver.tokens("/bc"):
        assert verify_logout_token(app, raw, rp.client_id)["sub"] == alice.subject

    set_status(app, provider, alice, "active")  # the sessions do not come back
    assert silently(browsers[0])["error"] == "login_required"


def test_a_code_issued_before_the_suspension_is_refused_at_the_token_endpoint(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    flow = Flow(new_app(provider), client_a, alice)
    code = flow.authorize()["code"]
    set_status(app, provider, alice, "suspended")
    assert_error(flow.token(code), 400, "invalid_grant")
    assert count(provider, "SELECT COUNT(*) FROM oidc_access_token") == 0


@pytest.mark.parametrize("prompt", ["none", None])
def test_a_live_session_of_a_suspended_account_gets_access_denied(
    provider: Provider, client_a: RP, alice: Account, prompt: str | None
) -> None:
    """Suspension ends the sessions; should one survive (the status set in the database by
    hand), no code is issued in it: the check is made where every code is issued."""
    flow = Flow(new_app(provider), client_a, alice)
    assert "code" in flow.authorize()
    provider.storage.database.execute_sql("UPDATE oidc_user SET status = 'suspended'")
    response = flow.start(prompt=prompt, state="the-state")
    assert response.status_int == 302
    query = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(client_a.redirect_uris[0] + "?")
    assert query["error"] == "access_denied"
    assert query["state"] == "the-state"
    assert query["iss"] == flow.issuer
    assert "code" not in query


def test_closing_revokes_everything_and_activation_brings_nothing_back(
    app: webtest.TestApp, provider: Provider, rp: RP, alice: Account
) -> None:
    body = account_pages.tokens(new_app(provider), rp, alice)
    set_status(app, provider, alice, "closed")
    live = "SELECT COUNT(*) FROM {} WHERE revoked_at IS NULL"
    assert count(provider, live.format("oidc_access_token")) == 0
    assert count(provider, live.format("oidc_refresh_token")) == 0
    assert sign_in_refusals(new_app(provider), rp, alice) == [(401, True)] * 3

    set_status(app, provider, alice, "active")
    assert account_pages.alive(app, rp, body) == dict.fromkeys(
        ("userinfo", "introspect_access", "introspect_refresh", "refresh"), False
    )
    again = account_pages.tokens(new_app(provider), rp, alice)  # signs in afresh
    assert account_pages.alive(app, rp, again)["userinfo"]


def test_the_bearer_middleware_refuses_a_suspended_accounts_token_at_once(
    settings: Settings, storage: Storage
) -> None:
    provider = Provider(dataclasses.replace(settings, issuer=HOST_ISSUER), storage=storage)
    host = webtest.TestApp(
        host_app(provider, [], ("email",)),
        extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "host.example"},
    )
    user = create_user(provider)
    token = run_code_flow(host, register_client(provider), user, scopes=("openid", "email"))
    headers = {"Authorization": f"Bearer {token.access_token}"}
    assert host.get("/api/me", headers=headers).json == {"hello": user.subject}

    record = provider.storage.users.by_subject(user.subject)
    assert record is not None
    assert account_status.change_status(provider, record, "suspended", "test").changed
    refused = host.get("/api/me", headers=headers, expect_errors=True)
    assert refused.status_int == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert provider.accounts.by_subject(user.subject) is None  # a host asking gets nobody


def test_a_status_change_is_audited_and_the_same_status_again_changes_nothing(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    set_status(app, provider, alice, "suspended")
    set_status(app, provider, alice, "suspended")
    set_status(app, provider, alice, "active")
    found = provider.storage.database.execute_sql(
        "SELECT actor, target, details FROM oidc_audit_log WHERE action = 'user.status' ORDER BY id"
    ).fetchall()
    details: list[Any] = [(target, details) for _, target, details in found]
    assert details == [
        ("alice@example.com", '{"from": "active", "to": "suspended"}'),
        ("alice@example.com", '{"from": "suspended", "to": "active"}'),
    ]
    assert all(str(actor).startswith("api-token:") for actor, _, _ in found)
    changed_at = provider.storage.users.by_email(alice.email)
    assert changed_at is not None and changed_at.status_changed_at


def test_a_suspended_administrator_loses_the_console(
    app: webtest.TestApp, provider: Provider
) -> None:
    root = make_user(provider, "root@example.com", "root's long password", is_admin=True)
    console = new_app(provider)
    assert admin_console.sign_in(console, root.email, root.password).status_int == 303
    assert console.get("/admin/").status_int == 200
    set_status(app, provider, root, "suspended")
    assert console.get("/admin/", expect_errors=True).status_int == 303  # signed out
    assert hidden(console.get("/admin/login"), "csrf_token")


def test_suspending_from_the_cli_stops_a_live_token_at_once(
    app: webtest.TestApp,
    provider: Provider,
    rp: RP,
    alice: Account,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = account_pages.tokens(new_app(provider), rp, alice)
    cli = Cli(tmp_path / "unused.db", monkeypatch)
    monkeypatch.setenv("OIDC_DATABASE_URL", database_url)  # the suite's own database
    assert cli("user", "suspend", alice.email, capsys=capsys).code == 0
    assert count(provider, SIGNED_IN) == 0
    assert not account_pages.alive(app, rp, body)["userinfo"]
    assert cli("user", "activate", alice.email, capsys=capsys).code == 0
    assert account_pages.alive(app, rp, body)["userinfo"]


def test_a_host_login_user_suspended_here_gets_no_code_and_no_account_pages(
    app: webtest.TestApp, settings: Settings, storage: Storage, client_a: RP, alice: Account
) -> None:
    def signed_in_host_user(request: Any) -> SourceAccount | None:
        return host.accounts.source.by_login(alice.email)

    root = dataclasses.replace(settings, issuer="https://op.example")
    host = Provider(root, storage=storage, host_login=signed_in_host_user)
    browser = webtest.TestApp(
        host, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )
    flow = Flow(browser, client_a, alice)
    assert "code" in flow.authorize()
    assert browser.get("/account/").status_int == 200
    set_status(app, host, alice, "suspended")
    query = query_of(flow.start(state="s").headers["Location"])
    assert (query["error"], query["state"], query["iss"]) == ("access_denied", "s", root.issuer)
    page = browser.get("/account/", expect_errors=True)
    assert page.status_int == 403
    assert "This account cannot be used at the moment." in page.text
    german = browser.get("/account/", headers={"Accept-Language": "de"}, expect_errors=True)
    assert "Dieses Konto kann derzeit nicht verwendet werden." in german.text
