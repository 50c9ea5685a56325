"""Who must use a second factor (``oidc_core.mfa.policy``): a client's ``require_mfa``,
the provider-wide ``require_mfa``, ``require_mfa_for_admins``; a user who must and has
none is led through enrolment within the sign-in (after the password, before the code)
and sees the recovery codes once; then signs in with the app.
"""

from __future__ import annotations

import itertools
import time

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.conftest import make_client, make_user, new_app
from tests.support import account_pages, admin_console
from tests.support.account_pages import provider_with
from tests.support.admin_console import admin as admin
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token
from tests.support.mfa import (
    Authenticator,
    action_of,
    enrol,
    recovery_codes_of,
    second_factor_page,
    second_step,
    secret_of,
)


def enrol_within_sign_in(
    app: webtest.TestApp, page: webtest.TestResponse, path: str
) -> tuple[Authenticator, str]:
    """``page``, the answer to the password of a user without a factor, leads through
    enrolment (its forms post to ``path``): set up the app from the page, keep the recovery
    codes, continue; the Location the sign-in goes on to."""
    second_factor_page(page, path)
    assert "Set up two-step verification" in page.text and "<svg" in page.text
    again = app.get(action_of(page))  # shown again: the same secret
    device = Authenticator(secret_of(page))
    assert secret_of(again) == device.secret
    wrong = second_step(app, page, device.wrong())
    assert wrong.status_int == 401 and "The code is not correct." in wrong.text
    shown = second_step(app, page, device.code())
    assert shown.status_int == 200, shown.text[:500]
    device.recovery_codes = recovery_codes_of(shown)
    assert len(device.recovery_codes) == 10
    done = second_step(app, shown, "")  # the Continue button
    assert done.status_int == 303, done.text[:500]
    return device, done.headers["Location"]


def require_mfa_client(storage: Storage) -> RP:
    return make_client(storage, "Bank", ["https://bank.example/cb"], require_mfa=True)


def test_a_client_that_requires_mfa_leads_its_users_through_enrolment(
    provider: Provider, app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    bank = require_mfa_client(storage)
    flow = Flow(app, bank, alice)
    response = flow.login(app.get(flow.start().headers["Location"]))
    assert app.get("/account/").status_int == 303  # not signed in during enrolment
    device, location = enrol_within_sign_in(app, response, "/login/second-factor")
    callback = query_of(flow.consent(app.get(location)).headers["Location"])
    token = flow.token(callback["code"])
    assert token.status_int == 200
    claims = verify_id_token(app, token.json["id_token"], bank.client_id)
    assert claims["sub"] == alice.subject
    # the next sign-in, in another browser, asks for the app's code
    other = new_app(provider)
    flow = Flow(other, bank, alice)
    page = flow.login(other.get(flow.start().headers["Location"]))
    assert "Enter the code from your authenticator app" in page.text
    assert second_step(other, page, device.code()).status_int == 303


def test_the_secret_being_set_up_survives_a_second_boundary_during_the_password(
    app: webtest.TestApp, storage: Storage, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The half-done sign-in's start is read once: when the clock passed a second between
    recording it and showing the enrolment page, the page shown again kept a different
    start and made a new secret (the app already scanned the first one)."""
    bank = require_mfa_client(storage)
    flow = Flow(app, bank, alice)
    page = app.get(flow.start().headers["Location"])
    start = time.time()
    ticks = itertools.count()
    monkeypatch.setattr(time, "time", lambda: start + next(ticks))  # a second per call
    answer = flow.login(page)
    monkeypatch.undo()
    second_factor_page(answer, "/login/second-factor")
    again = app.get(action_of(answer))
    assert secret_of(again) == secret_of(answer)


def test_other_clients_do_not_ask_a_user_without_a_factor(
    app: webtest.TestApp, storage: Storage, client_a: RP, alice: Account
) -> None:
    require_mfa_client(storage)
    assert "code" in Flow(app, client_a, alice).authorize()


def test_the_provider_wide_setting_applies_to_every_sign_in(
    settings: Settings, storage: Storage, provider: Provider, alice: Account
) -> None:
    app = provider_with(settings, storage, require_mfa=True)
    response = account_pages.sign_in(app, alice.email, alice.password)
    assert app.get("/account/").status_int == 303
    _, location = enrol_within_sign_in(app, response, "/account/login/second-factor")
    assert location == "https://op.example/account/"
    assert app.get("/account/").status_int == 200


def test_administrators_enrol_when_the_setting_says_so(
    settings: Settings, storage: Storage, provider: Provider
) -> None:
    root = make_user(
        provider, admin_console.ADMIN_EMAIL, admin_console.ADMIN_PASSWORD, is_admin=True
    )
    user = make_user(provider, "user@example.com", "a user's long password")
    app = provider_with(settings, storage, require_mfa_for_admins=True)
    response = admin_console.sign_in(app, root.email, root.password)
    _, location = enrol_within_sign_in(app, response, "/admin/login/second-factor")
    assert location == "https://op.example/admin/"
    assert app.get("/admin/").status_int == 200
    plain = provider_with(settings, storage, require_mfa_for_admins=True)
    assert (
        account_pages.sign_in(plain, user.email, user.password)
        .headers["Location"]
        .endswith("/account/")
    )


def test_an_administrator_with_a_factor_always_needs_it(
    provider: Provider, app: webtest.TestApp
) -> None:
    """Without require_mfa_for_admins too: a factor once enrolled cannot be skipped."""
    root = make_user(
        provider, admin_console.ADMIN_EMAIL, admin_console.ADMIN_PASSWORD, is_admin=True
    )
    browser = account_pages.browser(provider, root)

    enrol(browser)
    response = admin_console.sign_in(app, root.email, root.password)
    second_factor_page(response, "/admin/login/second-factor")
    assert app.get("/admin/").status_int == 303


def test_require_mfa_is_set_through_the_console_form(
    provider: Provider, admin: webtest.TestApp
) -> None:
    client_id, _ = admin_console.create(admin, require_mfa="1")
    assert admin_console.stored(provider, client_id).require_mfa
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'name="require_mfa" value="1" checked' in page.text
    client_id, _ = admin_console.create(admin)
    assert not admin_console.stored(provider, client_id).require_mfa
