"""Every form of ours found on the walked pages is CSRF-checked (R-CS-1, T-22): submitted
without its token and with another session's token it gets a 403 and changes nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
import webtest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support.flow import RP, Account, Flow, hidden, issuer_of
from tests.support.security_headers import (
    EVIL,
    Form,
    Walker,
    our_forms,
    walk_the_console,
    walk_the_console_as_a_stranger,
    walk_the_emailed_links,
)

FORM = "application/x-www-form-urlencoded"


# -- CSRF on every form that posts back to us --------------------------------------------


@pytest.fixture
def live_forms(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> list[tuple[Form, webtest.TestApp]]:
    """Every kind of form, each left open in its own browser, ready to be submitted."""
    walkers = [Walker(new_app(provider)) for _ in range(4)]
    at_login, at_consent, admin, stranger = walkers
    flow = Flow(at_login.app, client_a, alice)
    at_login.get("login page", flow.start().headers["Location"])
    flow = Flow(at_consent.app, client_a, alice)
    flow.authorize()
    response = flow.start(prompt="consent")
    at_consent.get("consent page", response.headers["Location"])
    at_consent.get("logout confirmation", "/end_session")
    walk_the_console(admin, provider, client_a.client_id)
    walk_the_console_as_a_stranger(stranger, provider)
    walk_the_emailed_links(at_login, provider, alice)
    return our_forms([v for w in walkers for v in w.visits], issuer_of(app))


def test_every_form_of_ours_carries_a_csrf_token(
    live_forms: list[tuple[Form, webtest.TestApp]], issuer: str
) -> None:
    actions = {urlsplit(form.action).path for form, _ in live_forms}
    prefix = urlsplit(issuer).path
    expected = {"/login", "/consent", "/end_session", "/admin/login", "/admin/logout"}
    expected |= {"/account/forgot-password", "/account/reset-password", "/account/verify-email"}
    assert {prefix + path for path in expected} <= actions, actions
    assert any("/admin/clients/" in action for action in actions), actions
    assert any(action.endswith("/status") for action in actions), actions
    for form, _ in live_forms:
        names = [name for name, _ in form.fields]
        assert names.count("csrf_token") == 1, form


@pytest.mark.parametrize("token", ["none", "another session's"])
def test_every_form_of_ours_is_refused_without_its_csrf_token(
    live_forms: list[tuple[Form, webtest.TestApp]], provider: Provider, token: str
) -> None:
    """T-22, R-CS-1: 403, no redirect, no session or client changed, whatever the form."""
    assert len(live_forms) >= 9
    other = hidden(new_app(provider).get("/admin/login"), "csrf_token")
    for form, browser in live_forms:
        fields = [(k, v) for k, v in form.fields if k != "csrf_token"]
        if token != "none":
            fields.append(("csrf_token", other))
        before = _state(provider)
        response = browser.post(
            form.action, urlencode(fields), headers=EVIL, content_type=FORM, expect_errors=True
        )
        where = f"{form.page} -> {form.action}"
        assert response.status_int == 403, (where, response.status, response.text[:200])
        assert "Location" not in response.headers, where
        assert _state(provider) == before, where


def _state(provider: Provider) -> list[list[tuple[object, ...]]]:
    """What a forged form could change: signed-in sessions, codes, consents, clients,
    account statuses."""
    queries = (
        "SELECT id, user_id, key_digest FROM oidc_browser_session WHERE user_id IS NOT NULL "
        "ORDER BY id",
        "SELECT id FROM oidc_authorization_code ORDER BY id",
        "SELECT id, scopes FROM oidc_consent ORDER BY id",
        "SELECT id, name, secret_digest FROM oidc_client ORDER BY id",
        "SELECT id, password_hash, email, email_verified, status FROM oidc_user ORDER BY id",
        "SELECT id, used_at FROM oidc_account_link ORDER BY id",
    )
    db = provider.storage.database
    return [[tuple(row) for row in db.execute_sql(sql).fetchall()] for sql in queries]
