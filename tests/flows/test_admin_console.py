"""The admin console at /admin/ (docs/administration.md), driven like a browser with WebTest.

Sign-in and the admin flag guard every route, POSTs included; every form carries a CSRF
token; every change goes through ClientAdmin, is audited, and shows a secret only once.
"""

from __future__ import annotations

import hashlib
import re
from http.cookies import SimpleCookie

import pytest
import webtest

from oidc_core import Provider
from oidc_core.admin.service import ClientNotFound
from oidc_core.records import Client
from oidc_core.storage import Audit
from tests.conftest import make_user, new_app
from tests.support.flow import RP, Account, Flow, hidden, issuer_of

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "admin's long password"
COOKIE = "oidc_session"
CB = "https://app.example/cb"
NOTE = "Copy it now: it is shown only this once and cannot be retrieved later."


# -- helpers --------------------------------------------------------------------------------


def sign_in(app: webtest.TestApp, email: str, password: str) -> webtest.TestResponse:
    page = app.get("/admin/login")
    return app.post(
        "/admin/login",
        {"csrf_token": hidden(page, "csrf_token"), "email": email, "password": password},
        expect_errors=True,
    )


@pytest.fixture
def admin(provider: Provider) -> webtest.TestApp:
    """A browser signed in to the console as an administrator."""
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    browser = new_app(provider)
    response = sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert response.status_int == 303, response.text[:500]
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/"
    return browser


@pytest.fixture
def mallory(provider: Provider) -> webtest.TestApp:
    """A browser signed in as a user without the admin flag."""
    make_user(provider, "mallory@example.com", "mallory's password")
    browser = new_app(provider)
    assert sign_in(browser, "mallory@example.com", "mallory's password").status_int == 303
    return browser


def token_of(app: webtest.TestApp, path: str = "/admin/") -> str:
    return hidden(app.get(path), "csrf_token")


def client_form(**overrides: str | list[str] | None) -> list[tuple[str, str]]:
    """The client form as a browser submits it (checkboxes only when ticked)."""
    fields: dict[str, str | list[str] | None] = {
        "client_name": "Control panel",
        "description": "The hosting control panel",
        "client_uri": "https://app.example",
        "logo_uri": "https://app.example/logo.png",
        "redirect_uris": CB + "\r\n\r\nhttps://app.example/cb2?x=1\r\n",
        "scope": ["openid", "profile", "email"],
        "access_token_ttl": "",
        "id_token_ttl": "",
    }
    fields.update(overrides)
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        for item in [value] if isinstance(value, str) else value or []:
            pairs.append((key, item))
    return pairs


def post(
    app: webtest.TestApp, path: str, pairs: list[tuple[str, str]], csrf: str | None = ""
) -> webtest.TestResponse:
    """POST a form with this session's CSRF token ("" fetches it, None leaves it out)."""
    if csrf == "":
        csrf = token_of(app)
    if csrf is not None:
        pairs = [("csrf_token", csrf), *pairs]
    return app.post(path, pairs, expect_errors=True)


def followed(app: webtest.TestApp, response: webtest.TestResponse) -> webtest.TestResponse:
    """The page a console POST redirected to (POST-redirect-GET)."""
    assert response.status_int == 303, (response.status, response.text[:1000])
    return app.get(response.headers["Location"])


def secret_on(page: webtest.TestResponse) -> str:
    """The client secret the page shows ("" when it shows none)."""
    found = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    return found.group(1) if found else ""


def create(app: webtest.TestApp, **overrides: str | list[str] | None) -> tuple[str, str]:
    """Create a client through the console; its client_id and secret from the page."""
    page = followed(app, post(app, "/admin/clients/new", client_form(**overrides)))
    assert page.status_int == 200, page.text[:1000]
    client_id = re.search(r'<code class="id">([^<]+)</code>', page.text)
    secret = re.search(r'<code class="secret">([^<]+)</code>', page.text)
    assert client_id, page.text
    return client_id.group(1), secret.group(1) if secret else ""


def stored(provider: Provider, client_id: str) -> Client:
    return provider.clients.get(client_id)


def count(provider: Provider, table: str) -> int:
    sql = f"SELECT COUNT(*) FROM {table}"
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


def session_key(response: webtest.TestResponse) -> str:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie"):
        cookie.load(header)
    return cookie[COOKIE].value


def client_paths(client_id: str) -> list[str]:
    return [
        "/admin/",
        "/admin/clients/new",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/reset-secret",
        f"/admin/clients/{client_id}/delete",
        "/admin/audit",
    ]


def post_paths(client_id: str) -> list[str]:
    return [
        "/admin/clients/new",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/reset-secret",
        f"/admin/clients/{client_id}/delete",
    ]


def assert_unchanged(provider: Provider, before: Client) -> None:
    assert stored(provider, before.client_id) == before
    assert count(provider, "oidc_client") == 1


# -- who may enter --------------------------------------------------------------------------


def test_anonymous_gets_the_login_page_and_no_client_data(
    app: webtest.TestApp, provider: Provider, client_a: RP
) -> None:
    for path in client_paths(client_a.client_id):
        response = app.get(path, expect_errors=True)
        assert response.status_int == 303, path
        assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
        assert "Client A" not in response.text and client_a.client_id not in response.text
    page = app.get("/admin/login")
    assert page.status_int == 200
    assert "Sign in with an administrator account" in page.text
    assert 'name="password"' in page.text
    assert "Client A" not in page.text
    assert app.get("/admin").headers["Location"] == issuer_of(app) + "/admin/"


def test_anonymous_posts_change_nothing(
    app: webtest.TestApp, provider: Provider, client_a: RP
) -> None:
    before = stored(provider, client_a.client_id)
    for path in post_paths(client_a.client_id):
        response = app.post(path, client_form(client_name="Taken"), expect_errors=True)
        assert response.status_int == 303, path
        assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == 0


def test_a_user_without_the_admin_flag_gets_403_everywhere(
    mallory: webtest.TestApp, provider: Provider, client_a: RP
) -> None:
    before = stored(provider, client_a.client_id)
    for path in client_paths(client_a.client_id):
        response = mallory.get(path, expect_errors=True)
        assert response.status_int == 403, path
        assert "Administrators only" in response.text
        assert "Client A" not in response.text and client_a.client_id not in response.text
    # A valid CSRF token of this session does not make a POST acceptable.
    csrf = hidden(mallory.get("/admin/", expect_errors=True), "csrf_token")
    for path in post_paths(client_a.client_id):
        form = client_form(client_name="Taken", grace_seconds="0")
        response = post(mallory, path, form, csrf=csrf)
        assert response.status_int == 403, path
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == 0


def test_the_403_page_lets_the_user_sign_out(mallory: webtest.TestApp) -> None:
    csrf = hidden(mallory.get("/admin/", expect_errors=True), "csrf_token")
    response = post(mallory, "/admin/logout", [], csrf=csrf)
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
    assert mallory.get("/admin/", expect_errors=True).status_int == 303


def test_failed_sign_in_is_the_same_401_for_unknown_email_and_wrong_password(
    app: webtest.TestApp, provider: Provider
) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    wrong = sign_in(app, ADMIN_EMAIL, "not the password")
    unknown = sign_in(app, "nobody@example.com", ADMIN_PASSWORD)
    for response in (wrong, unknown):
        assert response.status_int == 401
        assert "The email address or password is not correct." in response.text
    assert wrong.text.replace(ADMIN_EMAIL, "X") == unknown.text.replace(
        "nobody@example.com", "X"
    ).replace(hidden(unknown, "csrf_token"), hidden(wrong, "csrf_token"))
    assert app.get("/admin/", expect_errors=True).status_int == 303


def test_sign_in_replaces_the_session_key_and_goes_only_to_the_console(
    app: webtest.TestApp, provider: Provider
) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    page = app.get("/admin/login?next=https://evil.example/")
    before = session_key(page)
    response = app.post(
        "/admin/login?next=https://evil.example/",
        {
            "csrf_token": hidden(page, "csrf_token"),
            "email": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/"
    after = session_key(response)
    assert after != before
    assert app.get("/admin/").status_int == 200
    # The key from before sign-in grants nothing.
    stale = new_app(provider)
    stale.set_cookie(COOKIE, before)
    assert stale.get("/admin/", expect_errors=True).status_int == 303


def test_sign_in_form_needs_its_csrf_token(app: webtest.TestApp, provider: Provider) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    app.get("/admin/login")
    for csrf in (None, "0" * 64):
        response = post(
            app, "/admin/login", [("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)], csrf
        )
        assert response.status_int == 403
        assert "form has expired" in response.text
    assert app.get("/admin/", expect_errors=True).status_int == 303


def test_a_forged_sign_in_does_not_sign_the_administrator_out(
    admin: webtest.TestApp, provider: Provider
) -> None:
    """A sign-in POST without the form's token is refused and leaves the browser's
    console session as it was (no new session cookie replacing it)."""
    key = admin.cookies[COOKIE]
    response = post(admin, "/admin/login", [("email", "x@example.com"), ("password", "x")], None)
    assert response.status_int == 403
    assert "Set-Cookie" not in response.headers
    assert admin.cookies[COOKIE] == key
    assert admin.get("/admin/").status_int == 200


def test_sign_out_ends_the_session(admin: webtest.TestApp, provider: Provider) -> None:
    key = admin.cookies[COOKIE]
    response = post(admin, "/admin/logout", [])
    assert response.status_int == 303
    assert response.headers["Location"] == issuer_of(response.test_app) + "/admin/login"
    assert admin.get("/admin/", expect_errors=True).status_int == 303
    stale = new_app(provider)
    stale.set_cookie(COOKIE, key)
    assert stale.get("/admin/", expect_errors=True).status_int == 303


# -- creating and listing -------------------------------------------------------------------


def test_create_shows_the_secret_once_and_stores_only_its_digest(
    admin: webtest.TestApp, provider: Provider
) -> None:
    page = followed(admin, post(admin, "/admin/clients/new", client_form()))
    assert page.status_int == 200
    assert NOTE in page.text
    client_id, secret = create(admin, client_name="Second")
    assert len(secret) >= 43
    client = stored(provider, client_id)
    assert client.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    assert client.name == "Second"
    assert client.redirect_uris == (CB, "https://app.example/cb2?x=1")
    for path in ("/admin/", f"/admin/clients/{client_id}", "/admin/audit"):
        assert secret not in admin.get(path).text


def test_the_new_client_form_is_labelled(admin: webtest.TestApp) -> None:
    page = admin.get("/admin/clients/new")
    assert page.status_int == 200
    for name in ("client_name", "description", "client_uri", "logo_uri", "redirect_uris"):
        assert f'<label for="{name}"' in page.text and f'id="{name}"' in page.text
    for name in ("access_token_ttl", "id_token_ttl"):
        assert f'<label for="{name}"' in page.text
    # the hint names the provider's default lifetime that an empty field means
    assert page.text.count("the provider's default (3600)") == 2
    for checkbox in ("public", "require_pkce", "skip_consent", "scope-openid", "scope-email"):
        assert f'<label class="check" for="{checkbox}"><input type="checkbox" id="{checkbox}"' in (
            page.text
        )


def test_list_shows_name_id_and_redirect_uris_and_never_a_secret(
    admin: webtest.TestApp, provider: Provider
) -> None:
    first, first_secret = create(admin, client_name="Billing")
    second, second_secret = create(
        admin, client_name="Webmail", redirect_uris="https://mail.example/oidc"
    )
    page = admin.get("/admin/")
    for text in ("Billing", first, CB, "Webmail", second, "https://mail.example/oidc"):
        assert text in page.text
    assert first_secret not in page.text and second_secret not in page.text
    assert "never" in page.text  # last used
    # A random client ID (22 letters and digits) may hold any short string, but not a space
    # nor, in practice, seven given letters: these queries can only match names.
    found = admin.get("/admin/?q=webmail")
    assert second in found.text and first not in found.text
    assert "No client matches" in admin.get("/admin/?q=no+such+client").text


# -- editing ----------------------------------------------------------------------------------


def test_edit_saves_every_field_and_policy(admin: webtest.TestApp, provider: Provider) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    form = client_form(
        client_name="Renamed",
        description="New words",
        client_uri="https://new.example",
        logo_uri="https://new.example/l.png",
        redirect_uris="https://new.example/a\nhttps://new.example/b",
        scope=["openid", "email"],
        require_pkce="1",
        skip_consent="1",
        access_token_ttl="600",
        id_token_ttl="900",
    )
    page = followed(admin, post(admin, f"/admin/clients/{client_id}", form))
    assert page.status_int == 200
    assert "Changes saved." in page.text
    after = stored(provider, client_id)
    assert after.name == "Renamed"
    assert after.description == "New words"
    assert after.client_uri == "https://new.example"
    assert after.logo_uri == "https://new.example/l.png"
    assert after.redirect_uris == ("https://new.example/a", "https://new.example/b")
    assert after.allowed_scopes == frozenset({"openid", "email"})
    assert after.require_pkce and after.skip_consent and not after.is_public
    assert (after.access_token_ttl, after.id_token_ttl) == (600, 900)
    assert after.secret_digest == before.secret_digest
    # ... and back: unticked boxes and empty lifetimes are saved too.
    post(admin, f"/admin/clients/{client_id}", client_form())
    again = stored(provider, client_id)
    assert not again.require_pkce and not again.skip_consent
    assert again.access_token_ttl is None and again.id_token_ttl is None
    assert again.allowed_scopes == frozenset({"openid", "profile", "email"})


def test_a_public_client_has_no_secret_and_requires_pkce(
    admin: webtest.TestApp, provider: Provider
) -> None:
    page = followed(admin, post(admin, "/admin/clients/new", client_form(public="1")))
    assert page.status_int == 200
    assert "public client" in page.text and 'class="secret"' not in page.text
    client_id = re.search(r'<code class="id">([^<]+)</code>', page.text)
    assert client_id
    client = stored(provider, client_id.group(1))
    assert client.is_public and client.require_pkce and client.secret_digest == ""
    # The reset page has nothing to reset.
    reset = post(admin, f"/admin/clients/{client.client_id}/reset-secret", [("grace_seconds", "0")])
    assert reset.status_int == 400
    assert stored(provider, client.client_id) == client
    # A public client has no secret digest at all: remove it before the invariants run.
    assert post(admin, f"/admin/clients/{client.client_id}/delete", []).status_int == 303


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("redirect_uris", "http://evil.example/cb", "only for loopback hosts"),
        ("redirect_uris", "javascript:alert(1)", "must be an absolute https:// URI"),
        ("redirect_uris", "https://app.example/cb#frag", "must not contain a fragment"),
        ("redirect_uris", "\n \n", "at least one redirect URI is required"),
        ("client_name", "   ", "must be 1 to 255 characters"),
        ("client_uri", "javascript:alert(1)", "must be an absolute https:// URI"),
        ("logo_uri", "javascript:alert(1)", "must be an absolute https:// URI"),
        ("access_token_ttl", "ten minutes", "must be a whole number of seconds"),
        ("id_token_ttl", "5", "must be between 60 and 86400 seconds"),
        ("scope", ["profile"], "must include openid"),
    ],
)
def test_invalid_input_is_400_with_the_field_error_and_saves_nothing(
    admin: webtest.TestApp, provider: Provider, field: str, value: str | list[str], message: str
) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    audit_rows = count(provider, "oidc_audit_log")
    for path in ("/admin/clients/new", f"/admin/clients/{client_id}"):
        page = post(admin, path, client_form(**{field: value, "description": "typed text"}))
        assert page.status_int == 400, (path, page.text[:300])
        assert f'id="{field}-error"' in page.text
        assert message in page.text
        assert "Nothing was saved." in page.text
        assert "typed text" in page.text  # what was entered is kept
        if isinstance(value, str) and value.strip():
            assert f'value="{value}"' in page.text or f">{value}</textarea>" in page.text
    assert_unchanged(provider, before)
    assert count(provider, "oidc_audit_log") == audit_rows


def test_every_invalid_field_is_reported_at_once(admin: webtest.TestApp) -> None:
    page = post(
        admin,
        "/admin/clients/new",
        client_form(redirect_uris="http://evil.example/cb", access_token_ttl="soon", scope=[]),
    )
    assert page.status_int == 400
    for field in ("redirect_uris", "access_token_ttl", "scope"):
        assert f'id="{field}-error"' in page.text
        assert f'href="#{"scope-openid" if field == "scope" else field}"' in page.text
    assert 'id="client_name-error"' not in page.text


def test_an_update_records_only_the_changed_fields(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    rows = count(provider, "oidc_audit_log")
    page = followed(admin, post(admin, f"/admin/clients/{client_id}", client_form()))
    assert "Nothing to save" in page.text
    assert count(provider, "oidc_audit_log") == rows
    post(
        admin, f"/admin/clients/{client_id}", client_form(client_name="New name", skip_consent="1")
    )
    entry = provider.clients.audit_log(limit=1)[0]
    assert (entry.action, entry.actor, entry.target) == ("client.update", ADMIN_EMAIL, client_id)
    assert entry.details == {"fields": ["client_name", "skip_consent"], "client_name": "New name"}


def test_an_unknown_client_is_404(admin: webtest.TestApp) -> None:
    for path in ("/admin/clients/nope", "/admin/clients/nope/reset-secret"):
        assert admin.get(path, expect_errors=True).status_int == 404
    assert post(admin, "/admin/clients/nope/delete", []).status_int == 404
    assert admin.get("/admin/nothing-here", expect_errors=True).status_int == 404
    assert post(admin, "/admin/audit", []).status_int == 405


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


# -- audit, display and headers ---------------------------------------------------------------


def test_the_audit_page_lists_every_change_by_whom_without_secrets(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, first = create(admin)
    post(admin, f"/admin/clients/{client_id}", client_form(client_name="Renamed"))
    reset = followed(
        admin, post(admin, f"/admin/clients/{client_id}/reset-secret", [("grace_seconds", "0")])
    )
    second = re.search(r'<code class="secret">([^<]+)</code>', reset.text)
    assert second
    post(admin, f"/admin/clients/{client_id}/delete", [])
    page = admin.get("/admin/audit")
    for action in ("Created client", "Changed client", "Reset client secret", "Deleted client"):
        assert action in page.text
    assert page.text.count(ADMIN_EMAIL) >= 4 + 1  # four entries and the header
    assert page.text.count(client_id) == 4
    assert "UTC" in page.text
    assert first not in page.text and second.group(1) not in page.text
    for secret in (first, second.group(1)):
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert digest not in page.text


def test_the_audit_page_names_token_and_administrator_changes(
    admin: webtest.TestApp, provider: Provider
) -> None:
    record, token = provider.storage.admin_tokens.create(
        "provisioning", Audit("cli:ops", "admin_token.create", {"name": "provisioning"})
    )
    provider.storage.admin_tokens.revoke(record.id, Audit("cli:ops", "admin_token.revoke"))
    provider.storage.users.set_admin(ADMIN_EMAIL, True, Audit("cli:ops", "user.promote"))
    page = admin.get("/admin/audit")
    for text in ("Created admin API token", "Revoked admin API token", "Made administrator"):
        assert text in page.text
    assert page.text.count("cli:ops") == 3
    assert token not in page.text and hashlib.sha256(token.encode()).hexdigest() not in page.text


def test_the_audit_log_keeps_the_name_of_a_deleted_client(
    admin: webtest.TestApp, provider: Provider
) -> None:
    kept, _ = create(admin, client_name="Webmail")
    doomed, _ = create(admin, client_name="Billing")
    post(admin, f"/admin/clients/{doomed}", client_form(client_name="Billing portal"))
    assert post(admin, f"/admin/clients/{doomed}/delete", []).status_int == 303
    page = admin.get("/admin/audit")
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)[1:]
    targets = [re.search(r'data-label="Target">(.*?)</td>', row, re.S) for row in rows]
    shown = [" ".join(re.sub(r"<[^>]+>", " ", t.group(1)).split()) for t in targets if t]
    assert shown == [
        f"Billing portal (deleted) {doomed}",  # deleted
        f"Billing portal (deleted) {doomed}",  # renamed
        f"Billing (deleted) {doomed}",  # created
        f"Webmail {kept}",
    ]
    assert f'<a href="{issuer_of(admin)}/admin/clients/{kept}">Webmail</a>' in page.text
    assert page.text.count("client name:") == 0  # the name is not repeated as a detail
    delete = provider.clients.audit_log(limit=1)[0]
    assert (delete.action, delete.details) == ("client.delete", {"client_name": "Billing portal"})


def test_a_404_in_the_console_keeps_its_navigation_for_an_administrator_only(
    admin: webtest.TestApp, app: webtest.TestApp
) -> None:
    issuer = issuer_of(admin)
    nav = [
        f'<a href="{issuer}/admin/">Clients</a>',
        f'<a href="{issuer}/admin/clients/new">New client</a>',
        f'<a href="{issuer}/admin/audit">Audit log</a>',
        f'<a class="area-link" href="{issuer}/account/">Your account</a>',
        f'action="{issuer}/admin/logout"',
    ]
    for path in ("/admin/nothing-here", "/admin/clients/nope", "/admin/clients/nope/secret"):
        page = admin.get(path, expect_errors=True)
        assert page.status_int == 404, path
        assert "<h1>Not found</h1>" in page.text and "Admin console" in page.text, path
        for link in nav:
            assert link in page.text, (path, link)
    wrong = post(admin, "/admin/audit", [])
    assert wrong.status_int == 405 and all(link in wrong.text for link in nav)
    stranger = app.get("/admin/nothing-here", expect_errors=True)
    assert stranger.status_int == 404 and "Not found" in stranger.text
    assert "/admin/" not in stranger.text and "Admin console" not in stranger.text


def test_the_console_links_to_the_administrators_account_pages(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    link = f'<a class="area-link" href="{issuer_of(admin)}/account/">Your account</a>'
    for path in client_paths(client_id):
        assert link in admin.get(path).text, path
    account = admin.get("/account/")  # the same browser session: signed in there too
    assert account.status_int == 200 and "Connected apps" in account.text
    assert f'href="{issuer_of(admin)}/admin/">Admin console</a>' in account.text


def test_a_logo_path_is_shown_resolved_against_the_issuer(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin, logo_uri="/modules/servers/cpanel/logo.png")
    assert stored(provider, client_id).logo_uri == "/modules/servers/cpanel/logo.png"
    page = admin.get(f"/admin/clients/{client_id}")
    # against the site's origin (the issuer's path is where the provider is mounted)
    assert 'src="https://op.example/modules/servers/cpanel/logo.png"' in page.text
    assert 'value="/modules/servers/cpanel/logo.png"' in page.text


def test_client_data_is_escaped(admin: webtest.TestApp) -> None:
    name = "<script>alert(1)</script>"
    client_id, _ = create(admin, client_name=name, description='"><img src=x onerror=alert(1)>')
    for path in (
        "/admin/",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/reset-secret",
        f"/admin/clients/{client_id}/delete",
    ):
        page = admin.get(path)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "<script" not in page.text and "<img src=x" not in page.text, path


def test_admin_pages_carry_the_security_headers(
    admin: webtest.TestApp, app: webtest.TestApp, mallory: webtest.TestApp
) -> None:
    client_id, _ = create(admin)
    responses = [
        app.get("/admin/login"),
        mallory.get("/admin/", expect_errors=True),
        admin.get("/admin/nothing-here", expect_errors=True),
        followed(admin, post(admin, "/admin/clients/new", client_form())),
        *(admin.get(path) for path in client_paths(client_id)),
    ]
    for response in responses:
        assert response.headers["X-Frame-Options"] == "DENY"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert "<script" not in response.text and "style=" not in response.text


def test_grants_are_set_in_the_console(admin: webtest.TestApp, provider: Provider) -> None:
    client_id, _ = create(admin)
    assert stored(provider, client_id).grant_types == ("authorization_code",)
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'name="grant_type" value="refresh_token">' in page.text  # offered, unticked

    grants = ["refresh_token", "client_credentials"]
    post(admin, f"/admin/clients/{client_id}", client_form(grant_type=grants))
    assert stored(provider, client_id).grant_types == (
        "authorization_code",
        "refresh_token",
        "client_credentials",
    )
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'value="client_credentials" checked>' in page.text

    post(admin, f"/admin/clients/{client_id}", client_form(grant_type=["refresh_token"]))
    assert stored(provider, client_id).grant_types == ("authorization_code", "refresh_token")


def test_a_public_client_cannot_use_client_credentials(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    before = stored(provider, client_id)
    form = client_form(public="1", grant_type=["client_credentials"])
    for path in ("/admin/clients/new", f"/admin/clients/{client_id}"):
        page = post(admin, path, form)
        assert page.status_int == 400, page.text[:300]
        assert "client_credentials needs a confidential client" in page.text
        assert 'href="#grant-refresh_token"' in page.text
    assert stored(provider, client_id) == before


def test_jwt_access_tokens_are_set_in_the_console(
    admin: webtest.TestApp, provider: Provider
) -> None:
    client_id, _ = create(admin)
    assert stored(provider, client_id).access_token_format == "opaque"
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'name="access_token_format" value="jwt" aria-describedby' in page.text  # unticked

    post(admin, f"/admin/clients/{client_id}", client_form(access_token_format="jwt"))
    assert stored(provider, client_id).access_token_format == "jwt"
    page = admin.get(f"/admin/clients/{client_id}")
    assert 'value="jwt" checked' in page.text

    post(admin, f"/admin/clients/{client_id}", client_form())
    assert stored(provider, client_id).access_token_format == "opaque"


@pytest.mark.parametrize("query", ["a%00b", "%FF%FE", "%0A%0D"])
def test_a_search_with_control_characters_or_bad_bytes_lists_without_an_error(
    admin: webtest.TestApp, query: str
) -> None:
    create(admin, client_name="Billing")
    page = admin.get(f"/admin/?q={query}")
    assert page.status_int == 200
