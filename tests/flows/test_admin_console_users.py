"""The console's user pages (docs/administration.md "Users and their status"): the list, a
user's page and its status buttons, CSRF-checked and audited (SECURITY-CHECKLIST ACC-8).
"""

from __future__ import annotations

import re

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support.account_pages import browser as account_browser
from tests.support.account_status import audit, rows
from tests.support.admin_console import ADMIN_EMAIL, post, token_of
from tests.support.admin_console import admin as admin
from tests.support.admin_console import mallory as mallory
from tests.support.flow import Account

pytestmark = pytest.mark.mounts("one")


def listed(page: webtest.TestResponse) -> list[str]:
    return re.findall(r'<a class="user-email" href="[^"]*">([^<]+)</a>', page.text)


def status_of(provider: Provider, user: Account) -> str:
    found = provider.storage.users.by_email(user.email)
    assert found is not None
    return found.status


def test_the_list_searches_and_filters_by_status(
    admin: webtest.TestApp, provider: Provider, alice: Account, bob: Account
) -> None:
    assert listed(admin.get("/admin/users")) == [alice.email, bob.email, ADMIN_EMAIL]
    assert listed(admin.get("/admin/users?q=liddell")) == [alice.email]
    provider.storage.database.execute_sql(
        "UPDATE oidc_user SET status = 'suspended' WHERE email = 'bob@example.com'"
    )
    page = admin.get("/admin/users?status=suspended&q=bob")
    assert listed(page) == [bob.email]
    assert '<option value="suspended" selected>' in page.text
    assert "No user matches." in admin.get("/admin/users?q=nobody").text
    assert listed(admin.get("/admin/users?status=bogus")) == [alice.email, bob.email, ADMIN_EMAIL]


def test_suspending_and_activating_from_a_users_page(
    admin: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    signed_in = account_browser(provider, alice)
    page = admin.get(f"/admin/users/{alice.subject}")
    assert '<strong class="status">active</strong>' in page.text
    assert ">Suspend</button>" in page.text and ">Activate</button>" not in page.text

    path = f"/admin/users/{alice.subject}/status"
    response = post(admin, path, [("status", "suspended")], token_of(admin))
    assert response.status_int == 303
    assert response.headers["Location"].endswith(f"/admin/users/{alice.subject}?notice=changed")
    assert status_of(provider, alice) == "suspended"
    assert signed_in.get("/account/", expect_errors=True).status_int == 303  # signed out
    page = admin.get(response.headers["Location"])
    assert "The account&#39;s status was changed." in page.text
    assert ">Activate</button>" in page.text and ">Suspend</button>" not in page.text

    again = post(admin, path, [("status", "suspended")], token_of(admin))
    assert again.headers["Location"].endswith("?notice=unchanged")
    post(admin, path, [("status", "active")], token_of(admin))
    assert status_of(provider, alice) == "active"
    assert [(actor, target, d["to"]) for actor, target, d in audit(provider, "user.status")] == [
        (ADMIN_EMAIL, alice.email, "suspended"),
        (ADMIN_EMAIL, alice.email, "active"),
    ]
    assert "Changed account status" in admin.get("/admin/audit").text


@pytest.mark.parametrize("token", ["none", "another session's"])
def test_a_status_form_without_its_csrf_token_is_refused(
    admin: webtest.TestApp, provider: Provider, alice: Account, token: str
) -> None:
    other = token_of(account_browser(provider, alice), "/account/")
    fields = [("status", "suspended")]
    response = post(
        admin, f"/admin/users/{alice.subject}/status", fields, None if token == "none" else other
    )
    assert response.status_int == 403
    assert status_of(provider, alice) == "active"
    assert audit(provider, "user.status") == []


@pytest.mark.parametrize("status", ["deleted", "", "ACTIVE"])
def test_an_unknown_status_is_400_and_changes_nothing(
    admin: webtest.TestApp, provider: Provider, alice: Account, status: str
) -> None:
    response = post(
        admin, f"/admin/users/{alice.subject}/status", [("status", status)], token_of(admin)
    )
    assert response.status_int == 400
    assert "Choose one of the statuses offered." in response.text
    assert status_of(provider, alice) == "active"


def test_unknown_users_wrong_methods_and_strangers(
    admin: webtest.TestApp, mallory: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    assert admin.get("/admin/users/nobody", expect_errors=True).status_int == 404
    missing = post(admin, "/admin/users/nobody/status", [("status", "active")], token_of(admin))
    assert missing.status_int == 404
    assert admin.get(f"/admin/users/{alice.subject}/status", expect_errors=True).status_int == 405
    assert mallory.get("/admin/users", expect_errors=True).status_int == 403
    stranger = new_app(provider).get("/admin/users", expect_errors=True)
    assert stranger.status_int == 303
    assert rows(provider, "SELECT DISTINCT status FROM oidc_user") == [("active",)]
