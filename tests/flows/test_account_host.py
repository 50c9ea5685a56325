"""The account pages with a host's own accounts (docs/hosting.md, docs/account.md): the
host's signed-in user is the user, the host's login page is where anonymous users go,
and the host keeps its profiles and passwords."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.flows.test_host_accounts import (
    ROOT_ISSUER,
    BillingUsers,
    _host_app,
    billing,
    root_settings,
    signed_in_to_host,
)
from tests.support.account_pages import app_names, csrf, post, sign_in
from tests.support.flow import RP, Flow
from tests.support.flow import Account as Person

__all__ = ["billing", "root_settings"]  # the fixtures, shared with the host accounts tests

CAROL = Person("carol@billing.example", "carol's password", subject="")


@pytest.fixture
def host_login_provider(
    root_settings: Settings, storage: Storage, billing: BillingUsers
) -> Provider:
    settings = dataclasses.replace(root_settings, host_login_url="https://billing.example/login")
    return Provider(settings, storage=storage, accounts=billing, host_login=billing.host_login)


@pytest.mark.parametrize("path", ["/account/", "/account/login", "/account/profile"])
def test_anonymous_users_go_to_the_hosts_login_page_coming_back_to_the_account(
    host_login_provider: Provider, path: str
) -> None:
    response = _host_app(host_login_provider).get(path + "?next=https://evil.example/")
    assert response.status_int == 303
    target = urlsplit(response.headers["Location"])
    assert target.netloc == "billing.example" and target.path == "/login"
    assert parse_qs(target.query) == {"next": [f"{ROOT_ISSUER}/account/"]}


def test_the_hosts_signed_in_user_sees_their_apps_and_may_revoke_them(
    host_login_provider: Provider, client_a: RP, billing: BillingUsers
) -> None:
    app = _host_app(host_login_provider)
    signed_in_to_host(app, billing, "1001")
    flow = Flow(app, client_a, CAROL)
    access = flow.token(flow.code_with_pkce()).json["access_token"]
    page = app.get("/account/")
    assert page.status_int == 200 and app_names(page) == ["Client A"]
    assert "carol@billing.example" in page.text
    assert post(app, f"/account/apps/{client_a.client_id}/revoke").status_int == 303
    assert app.get("/userinfo", headers={"Authorization": f"Bearer {access}"}, status=401)

    app.set_cookie("billing_session", "signed-out")
    assert app.get("/account/").status_int == 303  # the host says nobody: nobody


def test_a_host_account_profile_is_read_only_and_has_no_password_form(
    host_login_provider: Provider, billing: BillingUsers
) -> None:
    app = _host_app(host_login_provider)
    signed_in_to_host(app, billing, "1001")
    page = app.get("/account/profile")
    assert "Your account is managed by the site you signed in with" in page.text
    assert 'value="Carol Customer" readonly' in page.text
    assert 'name="name"' not in page.text and 'name="new_password"' not in page.text
    token = csrf(app, "/account/profile")
    assert post(app, "/account/profile", {"name": "Mallory"}, token=token).status_int == 403
    changed = post(
        app,
        "/account/password",
        {"current_password": "carol's password", "new_password": "x" * 12},
        token=token,
    )
    assert changed.status_int == 403
    assert billing.rows["1001"]["name"] == "Carol Customer"


def test_without_a_host_login_page_the_bundled_sign_in_checks_the_hosts_accounts(
    root_settings: Settings, storage: Storage, billing: BillingUsers
) -> None:
    provider = Provider(root_settings, storage=storage, accounts=billing)
    app = _host_app(provider)
    page = app.get("/account/login")
    assert sign_in(app, CAROL.email, CAROL.password).status_int == 303
    assert page.status_int == 200 and app.get("/account/").status_int == 200
