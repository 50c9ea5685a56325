"""Secrets and deletion in the admin console: confirmation, grace periods, shown once;
POST-redirect-GET so that a reload repeats nothing.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin.service import ClientNotFound
from tests.conftest import new_app
from tests.support.admin_console import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CB,
    client_form,
    create,
    followed,
    post,
    sign_in,
    stored,
    token_of,
)
from tests.support.admin_console import admin as admin
from tests.support.console_pages import NOTE, assert_unchanged, count, post_paths
from tests.support.flow import RP, Account, Flow, issuer_of


def secret_on(page: webtest.TestResponse) -> str:
    """The client secret the page shows ("" when it shows none)."""
    found = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    return found.group(1) if found else ""


# -- secrets and deletion ---------------------------------------------------------------------


def test_reset_secret_needs_confirmation_and_the_old_secret_stops_working(
    admin: webtest.TestApp, app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client_id, old = create(admin)
    before = stored(provider, client_id)
    confirm = admin.get(f"/admin/clients/{client_id}/reset-secret")
    assert "Reset the client secret" in confirm.text
    assert stored(provider, client_id) == before  # showing the confirmation changes nothing
    page = post(
        admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "")], csrf=None
    )
    assert page.status_int == 403
    page = followed(
        admin, post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "0")])
    )
    assert page.status_int == 200
    assert NOTE in page.text and "The previous secret no longer works." in page.text
    new = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    assert new and new.group(1) != old
    uris = [CB]
    code = Flow(app, RP(client_id, new.group(1), uris), alice).authorize()["code"]
    refused = Flow(app, RP(client_id, old, uris), alice).token(code)
    assert refused.status_int == 401 and refused.json["error"] == "invalid_client"
    accepted = Flow(app, RP(client_id, new.group(1), uris), alice).token(code)
    assert accepted.status_int == 200 and "access_token" in accepted.json


def test_reset_secret_with_a_grace_period_keeps_both_secrets_working(
    admin: webtest.TestApp, app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client_id, old = create(admin)
    page = followed(
        admin, post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "600")])
    )
    assert "keeps working until" in page.text
    new = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    assert new
    for secret in (old, new.group(1)):
        flow = Flow(app, RP(client_id, secret, [CB]), alice)
        assert flow.token(flow.authorize()["code"]).status_int == 200


@pytest.mark.parametrize("grace", ["soon", "-5", "999999999"])
def test_reset_secret_with_a_bad_grace_period_changes_nothing(
    admin: webtest.TestApp, provider: Provider, grace: str
) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    page = post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", grace)])
    assert page.status_int == 400
    assert 'id="grace_seconds-error"' in page.text and 'class="secret"' not in page.text
    assert stored(provider, client_id) == before


# -- POST-redirect-GET: a reload repeats nothing, a secret is shown once -------------------


def audit_actions(provider: Provider) -> list[str]:
    return [entry.action for entry in provider.clients.audit_log()]


def test_reloading_the_created_page_creates_nothing_and_shows_the_secret_once(
    admin: webtest.TestApp, app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    response = post(admin, "/admin/clients/new", client_form())
    assert response.status_int == 303
    location = response.headers["Location"]
    assert count(provider, "oidc_client") == 1
    client_id = provider.clients.search()[0][0].client_id
    assert location == issuer_of(admin) + f"/admin/clients/{client_id}/secret"
    first = admin.get(location)
    assert "Client created" in first.text and NOTE in first.text
    secret = secret_on(first)
    assert len(secret) >= 43
    assert secret not in location and secret not in str(response.headers)
    for _ in range(2):
        reload = admin.get(location)
        assert reload.status_int == 200
        assert secret_on(reload) == "" and secret not in reload.text
        assert "cannot be shown again" in reload.text
    assert count(provider, "oidc_client") == 1
    assert count(provider, "oidc_one_time_value") == 0
    assert audit_actions(provider) == ["client.create"]
    flow = Flow(app, RP(client_id, secret, [CB]), alice)
    assert flow.token(flow.authorize()["code"]).status_int == 200


def test_reloading_the_reset_page_resets_nothing_and_the_secret_shown_works(
    admin: webtest.TestApp, app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client_id, old = create(admin)
    response = post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "0")])
    assert response.status_int == 303
    location = response.headers["Location"]
    assert location == issuer_of(admin) + f"/admin/clients/{client_id}/secret"
    page = admin.get(location)
    new = secret_on(page)
    assert new and new != old and "The previous secret no longer works." in page.text
    after_reset = stored(provider, client_id)
    for _ in range(2):
        reload = admin.get(location)
        assert secret_on(reload) == "" and new not in reload.text
    assert stored(provider, client_id) == after_reset  # no second reset
    assert audit_actions(provider) == ["client.reset_secret", "client.create"]
    code = Flow(app, RP(client_id, new, [CB]), alice).authorize()["code"]
    refused = Flow(app, RP(client_id, old, [CB]), alice).token(code)
    assert refused.status_int == 401 and refused.json["error"] == "invalid_client"
    assert Flow(app, RP(client_id, new, [CB]), alice).token(code).status_int == 200


def test_every_console_post_answers_303_to_a_page_that_a_reload_does_not_repeat(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    issuer = issuer_of(admin)
    cases = [
        (f"/admin/clients/{client_id}", client_form(client_name="Renamed"), "?notice=saved"),
        (f"/admin/clients/{client_id}", client_form(client_name="Renamed"), "?notice=unchanged"),
        (f"/admin/clients/{client_id}/delete", [], "/admin/?notice=deleted"),
    ]
    notices = ["Changes saved.", "Nothing to save", "The client was deleted"]
    for (path, form, target), notice in zip(cases, notices, strict=True):
        response = post(admin, path, form)
        assert response.status_int == 303, (path, response.text[:300])
        location = response.headers["Location"]
        assert location == issuer + (target if target.startswith("/") else path + target)
        before = (count(provider, "oidc_client"), audit_actions(provider))
        for _ in range(2):
            page = admin.get(location)
            assert page.status_int == 200 and notice in page.text
        assert (count(provider, "oidc_client"), audit_actions(provider)) == before
    assert audit_actions(provider) == ["client.delete", "client.update", "client.create"]
    response = post(admin, "/admin/logout", [])
    assert response.status_int == 303
    assert response.headers["Location"] == issuer + "/admin/login"


def test_a_public_client_made_confidential_in_the_console_gets_a_secret_shown_once(
    admin: webtest.TestApp, app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client_id, none = create(admin, public="1", require_pkce="1")
    assert none == "" and stored(provider, client_id).is_public
    response = post(admin, f"/admin/clients/{client_id}", client_form())
    location = response.headers["Location"]
    assert response.status_int == 303 and location.endswith(f"/admin/clients/{client_id}/secret")
    page = admin.get(location)
    secret = secret_on(page)
    assert secret and "The client is confidential now" in page.text
    client = stored(provider, client_id)
    assert not client.is_public
    assert client.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret_on(admin.get(location)) == ""
    flow = Flow(app, RP(client_id, secret, [CB]), alice)
    assert flow.token(flow.authorize()["code"]).status_int == 200


def test_the_secret_waits_encrypted_for_this_browser_session_only_and_briefly(
    admin: webtest.TestApp, provider: Provider
) -> None:
    response = post(admin, "/admin/clients/new", client_form())
    location = response.headers["Location"]
    client_id = provider.clients.search()[0][0].client_id
    db = provider.storage.database
    [(stored_value,)] = db.execute_sql("SELECT value FROM oidc_one_time_value").fetchall()
    other = new_app(provider)  # the same administrator in another browser
    assert sign_in(other, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    assert secret_on(other.get(location)) == ""
    page = admin.get(location)
    secret = secret_on(page)
    assert secret and secret not in stored_value and client_id not in stored_value
    # A secret not fetched in time is gone: reset it.
    reset = post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "0")])
    db.execute_sql("UPDATE oidc_one_time_value SET expires_at = expires_at - 301")
    late = admin.get(reset.headers["Location"])
    assert secret_on(late) == "" and "cannot be shown again" in late.text
    assert 'reset-secret">Reset the client secret' in late.text


def test_delete_needs_confirmation_and_revokes_the_clients_tokens(
    admin: webtest.TestApp, app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client_id, secret = create(admin)
    flow = Flow(app, RP(client_id, secret, [CB]), alice)
    access_token = flow.token(flow.authorize()["code"]).json["access_token"]
    bearer = {"Authorization": f"Bearer {access_token}"}
    assert app.get("/userinfo", headers=bearer).status_int == 200
    confirm = admin.get(f"/admin/clients/{client_id}/delete")
    assert "Delete this client?" in confirm.text
    assert stored(provider, client_id).client_id == client_id
    response = post(admin, f"/admin/clients/{client_id}/delete", [])
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/?notice=deleted"
    listing = admin.get(response.headers["Location"])
    assert "The client was deleted" in listing.text and client_id not in listing.text
    with pytest.raises(ClientNotFound):
        stored(provider, client_id)
    assert app.get("/userinfo", headers=bearer, expect_errors=True).status_int == 401
    assert count(provider, "oidc_consent") == 0


def test_posts_without_the_sessions_csrf_token_are_403_and_change_nothing(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    audit_rows = count(provider, "oidc_audit_log")
    other = new_app(provider)
    assert sign_in(other, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    foreign = token_of(other)  # valid, but for another session
    for csrf in (None, "", "x" * 64, foreign):
        for path in [*post_paths(client_id), "/admin/logout"]:
            form = client_form(client_name="Changed", grace_seconds="0")
            response = admin.post(
                path,
                [*form, *([("csrf_token", csrf)] if csrf is not None else [])],
                expect_errors=True,
            )
            assert response.status_int == 403, (path, csrf)
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == audit_rows
    assert admin.get("/admin/").status_int == 200  # still signed in
