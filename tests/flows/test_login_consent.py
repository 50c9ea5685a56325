"""The login and consent pages and the browser session (SECURITY-CHECKLIST section B).

T-19 (prompt=none), T-20 (session cookie), T-22 (CSRF), T-23 (consent bound to the pending
request), T-24 (no account enumeration), T-28 (password lengths), T-29 (deny), T-30 (303
after POST) and T-61 (double-submitted consent gives exactly one code).
"""

from __future__ import annotations

import dataclasses
import threading
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import argon2
import pytest
import webtest

from oidc_core import Provider, cli
from oidc_core.records import ClientFields
from oidc_core.storage import Storage
from tests.conftest import FAST_PASSWORDS, make_client, make_user, new_app
from tests.support.flow import RP, Account, Flow, hidden, issuer_of, query_of

CB = "https://rp.example/cb"
CB2 = "https://rp.example/cb2?x=1"
STATE = "st4te-Ω"
COOKIE = "oidc_session"


def count(provider: Provider, sql: str) -> int:
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


def code_rows(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_authorization_code")


def logged_in_sessions(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_browser_session WHERE user_id IS NOT NULL")


def consent_rows(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_consent")


def login_page(flow: Flow, **overrides: Any) -> webtest.TestResponse:
    response = flow.start(**overrides)
    assert response.status_int == 303, response.status
    assert response.headers["Location"].startswith(flow.issuer + "/login?interaction=")
    return flow.app.get(response.headers["Location"])


def consent_page(flow: Flow, **overrides: Any) -> webtest.TestResponse:
    response = flow.login(login_page(flow, **overrides))
    assert response.status_int == 303, response.status
    assert response.headers["Location"].startswith(flow.issuer + "/consent?interaction=")
    return flow.app.get(response.headers["Location"])


def post_form(
    app: webtest.TestApp, path: str, page: webtest.TestResponse, **fields: str | None
) -> webtest.TestResponse:
    """Submit the page's form (hidden fields from ``page``; ``None`` removes a field)."""
    data: dict[str, str | None] = {
        "interaction": hidden(page, "interaction"),
        "csrf_token": hidden(page, "csrf_token"),
    }
    data.update(fields)
    return app.post(path, {k: v for k, v in data.items() if v is not None}, expect_errors=True)


def session_cookie(response: webtest.TestResponse) -> SimpleCookie:
    cookies = [c for c in response.headers.getall("Set-Cookie") if c.startswith(COOKIE + "=")]
    assert len(cookies) == 1, response.headers.getall("Set-Cookie")
    jar = SimpleCookie()
    jar.load(cookies[0])
    return jar


def assert_page(response: webtest.TestResponse, status: int) -> None:
    assert response.status_int == status, response.status
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert "Traceback" not in response.text


def assert_rp_redirect(response: webtest.TestResponse, redirect_uri: str = CB) -> dict[str, str]:
    """303 to the registered URI with iss; returns the callback query."""
    assert response.status_int == 303, (response.status, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(redirect_uri + ("&" if "?" in redirect_uri else "?")), location
    callback = query_of(location)
    assert callback["iss"] == issuer_of(response.test_app)
    return callback


# -- prompt=none (T-19) ------------------------------------------------------------------


def test_prompt_none_without_session_is_login_required(flow: Flow, provider: Provider) -> None:
    """T-19: an error redirect, no page, no session created."""
    response = flow.start(prompt="none", state=STATE)
    assert response.status_int == 302
    callback = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(CB + "?error=login_required&")
    assert (callback["state"], callback["iss"]) == (STATE, flow.issuer)
    assert "code" not in callback
    assert "Set-Cookie" not in response.headers
    assert count(provider, "SELECT COUNT(*) FROM oidc_pending_authorization") == 0


def test_prompt_none_logged_in_without_consent_is_consent_required(
    flow: Flow, provider: Provider, client_b: RP
) -> None:
    """T-19: the browser is signed in (through client B) but never consented to client A."""
    Flow(flow.app, client_b, flow.user).authorize()
    assert code_rows(provider) == 1
    response = flow.start(prompt="none", state=STATE)
    assert response.status_int == 302
    assert response.headers["Location"].startswith(CB + "?error=consent_required&")
    callback = query_of(response.headers["Location"])
    assert (callback["state"], callback["iss"]) == (STATE, flow.issuer)
    assert code_rows(provider) == 1


def test_prompt_none_with_wider_scope_than_consented_is_consent_required(flow: Flow) -> None:
    """T-19: consent for ``openid`` does not cover ``openid email``."""
    flow.authorize(scope="openid")
    response = flow.start(prompt="none", scope="openid email", state=STATE)
    assert response.headers["Location"].startswith(CB + "?error=consent_required&")


def test_prompt_none_logged_in_and_consented_issues_code_at_once(flow: Flow) -> None:
    """T-19: signed in and consented: the code comes at once."""
    flow.authorize()
    response = flow.start(prompt="none", state=STATE)
    assert response.status_int == 302
    callback = query_of(response.headers["Location"])
    assert set(callback) == {"code", "state", "iss"}
    assert callback["state"] == STATE
    assert flow.token(callback["code"]).status_int == 200


# -- the session cookie (T-20) -----------------------------------------------------------


def test_session_cookie_is_secure_httponly_lax(flow: Flow) -> None:
    """T-20: Secure, HttpOnly, SameSite=Lax, before and after login."""
    response = flow.start()
    before = session_cookie(response)[COOKIE]
    page = flow.app.get(response.headers["Location"])
    after = session_cookie(flow.login(page))[COOKIE]
    for morsel in (before, after):
        assert morsel["secure"] is True
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["path"] == (urlsplit(flow.issuer).path or "/")


def test_session_id_changes_at_login(flow: Flow) -> None:
    """T-20: session fixation defence: a new cookie value when the user signs in."""
    response = flow.start()
    before = session_cookie(response)[COOKIE].value
    after = session_cookie(flow.login(flow.app.get(response.headers["Location"])))[COOKIE].value
    assert before and after and before != after


def test_pre_login_cookie_is_useless_after_login(flow: Flow, provider: Provider) -> None:
    """T-20: an attacker who planted (or read) the pre-login cookie gains nothing."""
    response = flow.start()
    before = session_cookie(response)[COOKIE].value
    page = flow.app.get(response.headers["Location"])
    login = flow.login(page)
    after = session_cookie(login)[COOKIE].value
    flow.consent(flow.app.get(login.headers["Location"]))
    query = "/authorize?" + urlencode(flow.authorize_params(prompt="none"))
    for cookie, expected in ((before, "error=login_required"), (after, "code=")):
        other = new_app(provider)
        response = other.get(query, headers={"Cookie": f"{COOKIE}={cookie}"})
        assert expected in response.headers["Location"]


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


# -- login answers (T-24, T-28) ----------------------------------------------------------


def test_unknown_email_and_wrong_password_look_identical(flow: Flow, provider: Provider) -> None:
    """T-24 (R-DOS-2): same status, body and headers (no timing assertion here)."""
    page = login_page(flow)
    known = post_form(flow.app, "/login", page, email="alice@example.com", password="wrong")
    unknown = post_form(flow.app, "/login", page, email="alicf@example.com", password="wrong")
    assert known.status_int == unknown.status_int == 401
    assert "The email address or password is not correct." in known.text
    assert known.text.replace("alice@", "X@") == unknown.text.replace("alicf@", "X@")
    # every answer has its own request id; every other header is the same
    assert sorted(h for h in known.headerlist if h[0] != "X-Request-Id") == sorted(
        h for h in unknown.headerlist if h[0] != "X-Request-Id"
    )
    assert logged_in_sessions(provider) == 0


@pytest.mark.parametrize(
    "email", ["", "ALICE@EXAMPLE.COM ", "alice@example.com\x01", "a" * 400 + "@example.com"]
)
def test_odd_emails_get_the_generic_failure(flow: Flow, provider: Provider, email: str) -> None:
    """T-24: no separate answer for malformed or oversized emails."""
    response = post_form(flow.app, "/login", login_page(flow), email=email, password="wrong")
    assert response.status_int == 401
    assert "The email address or password is not correct." in response.text
    assert logged_in_sessions(provider) == 0


def test_wrong_password_then_right_password(flow: Flow) -> None:
    """The pending request survives a failed attempt."""
    page = login_page(flow)
    assert flow.login(page, password="wrong").status_int == 401
    assert flow.login(page).status_int == 303


@pytest.mark.parametrize(
    "password",
    [
        "Tr0ub4dor&3-" * 5 + "long",  # 64 characters
        "correct 🐎 battery stäple 日本語",
        "x" * 1024,  # the limit, in bytes
        "é" * 512,  # 1024 bytes in 512 characters
    ],
    ids=["64-chars", "unicode", "1024-bytes", "1024-bytes-multibyte"],
)
def test_accepted_passwords(
    app: webtest.TestApp, provider: Provider, client_a: RP, password: str
) -> None:
    """T-28: long and Unicode passwords up to 1024 bytes work."""
    user = make_user(provider, "carol@example.com", password)
    page = login_page(Flow(app, client_a, user))
    response = post_form(app, "/login", page, email=user.email, password=password)
    assert response.status_int == 303
    assert response.headers["Location"].startswith(issuer_of(app) + "/consent?")


@pytest.mark.parametrize(
    "password", ["x" * 1025, "é" * 513], ids=["1025-bytes", "1026-bytes-513-chars"]
)
def test_passwords_over_1024_bytes_are_refused(
    app: webtest.TestApp, provider: Provider, client_a: RP, password: str
) -> None:
    """T-28 (ASVS 6.2.9): refused before hashing, even when it is the right password."""
    hasher = argon2.PasswordHasher(
        time_cost=FAST_PASSWORDS["password_time_cost"],
        memory_cost=FAST_PASSWORDS["password_memory_cost"],
    )
    user = provider.storage.users.create("dave@example.com", hasher.hash(password))
    flow = Flow(app, client_a, Account("dave@example.com", password, user.subject))
    response = flow.login(login_page(flow))
    assert response.status_int == 401
    assert "The email address or password is not correct." in response.text
    assert logged_in_sessions(provider) == 0


@pytest.mark.parametrize(("size", "status"), [(60_000, 400), (1_000_000, 413)], ids=["60k", "1M"])
def test_huge_passwords_are_refused_without_5xx(
    flow: Flow, provider: Provider, size: int, status: int
) -> None:
    """T-28: a 60 KB password (parameter limit) and a 1 MB one (body limit)."""
    response = flow.login(login_page(flow), password="p" * size)
    assert_page(response, status)
    assert logged_in_sessions(provider) == 0


# -- deny, decisions and status codes (T-29, T-30) -----------------------------------------


def test_denied_consent_redirects_access_denied(flow: Flow, provider: Provider) -> None:
    """T-29 (R-OR-2): to the registered URI (query kept), with state and iss, no code."""
    page = consent_page(flow, redirect_uri=CB2, state=STATE)
    callback = assert_rp_redirect(flow.consent(page, decision="deny"), redirect_uri=CB2)
    assert callback["error"] == "access_denied"
    assert (callback["state"], callback["x"]) == (STATE, "1")
    assert "code" not in callback
    assert code_rows(provider) == 0
    assert consent_rows(provider) == 0


def test_denied_consent_cannot_be_turned_into_allow(flow: Flow, provider: Provider) -> None:
    """T-29 / T-61: the pending request is finished by the deny."""
    page = consent_page(flow)
    flow.consent(page, decision="deny")
    assert_page(flow.consent(page, decision="allow"), 400)
    assert code_rows(provider) == 0


@pytest.mark.parametrize("decision", [None, "", "yes", "ALLOW"])
def test_consent_without_a_decision_is_a_page(
    flow: Flow, provider: Provider, decision: str | None
) -> None:
    """Neither allow nor deny: a 400 page; the request is still pending."""
    page = consent_page(flow)
    assert_page(post_form(flow.app, "/consent", page, decision=decision), 400)
    assert code_rows(provider) == 0
    assert "code" in assert_rp_redirect(flow.consent(page))


def test_login_and_consent_answer_303(flow: Flow) -> None:
    """T-30 (R-OR-3): 303 after each POST carrying credentials, never 307."""
    login = flow.login(login_page(flow))
    assert login.status_int == 303
    consent = flow.consent(flow.app.get(login.headers["Location"]))
    assert consent.status_int == 303
    assert "code" in assert_rp_redirect(consent)


def test_login_issuing_the_code_directly_answers_303(flow: Flow) -> None:
    """T-30: prompt=login with remembered consent: the login POST itself redirects to the RP."""
    flow.authorize()
    response = flow.login(login_page(flow, prompt="login", state=STATE))
    callback = assert_rp_redirect(response)
    assert (set(callback), callback["state"]) == ({"code", "state", "iss"}, STATE)


# -- double submission (T-61) ----------------------------------------------------------------


def test_double_submitted_consent_gives_one_code(flow: Flow, provider: Provider) -> None:
    """T-61: the second submission is a 400 page and still exactly one code exists."""
    page = consent_page(flow)
    first = flow.consent(page)
    second = flow.consent(page)
    assert "code" in assert_rp_redirect(first)
    assert_page(second, 400)
    assert code_rows(provider) == 1


def test_a_parked_request_is_validated_again_when_it_is_finished(
    flow: Flow, provider: Provider
) -> None:
    """The client lost the openid scope while the user was signing in: consent answers
    invalid_scope on the registered URI, with state and iss, and issues no code."""
    page = consent_page(flow, state=STATE)
    client = provider.storage.clients.by_client_id(flow.client.client_id)
    assert client is not None
    narrowed = dataclasses.replace(ClientFields.of(client), allowed_scopes="profile email")
    provider.storage.clients.update(client.client_id, narrowed)
    callback = assert_rp_redirect(flow.consent(page))
    assert (callback["error"], callback["state"]) == ("invalid_scope", STATE)
    assert "code" not in callback
    assert code_rows(provider) == 0


def test_the_consent_page_names_the_user_and_shows_a_logo_path_on_the_site(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    client = make_client(
        storage,
        "Control panel",
        ["https://panel.example/cb"],
        logo_uri="/modules/servers/cpanel/logo.png",
    )
    flow = Flow(app, client, alice)
    page = flow.login(app.get(flow.start().headers["Location"]))
    consent = app.get(page.headers["Location"])
    assert "Signed in as <strong>alice@example.com</strong>" in consent.text
    assert 'src="https://op.example/modules/servers/cpanel/logo.png"' in consent.text


def test_first_consents_of_one_user_in_two_browsers_at_once_both_succeed(
    app: webtest.TestApp, client_a: RP, alice: Account, provider: Provider
) -> None:
    """Two browsers, two pending requests, "Allow" in both at the same moment: both get a
    code and one remembered consent (the second insert of the consent row must not fail)."""
    pages = []
    for _ in range(2):
        flow = Flow(new_app(provider), client_a, alice)
        pages.append((flow, consent_page(flow)))
    barrier = threading.Barrier(2)
    results: list[webtest.TestResponse] = []

    def allow(flow: Flow, page: webtest.TestResponse) -> None:
        barrier.wait()
        try:
            results.append(flow.consent(page))
        finally:
            provider.storage.close()  # this thread's connection

    threads = [threading.Thread(target=allow, args=pair) for pair in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_int for r in results) == [303, 303], [r.status for r in results]
    for response in results:
        assert "code" in assert_rp_redirect(response)
    assert code_rows(provider) == 2
    assert count(provider, "SELECT COUNT(*) FROM oidc_consent") == 1


def _form_action(response: webtest.TestResponse) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("form-action"))
    return directive.split()[1:]


def test_login_and_consent_forms_may_end_at_the_clients_redirect_uri(
    flow: Flow, provider: Provider
) -> None:
    """CSP form-action also governs the redirects after a submission: the login POST (with
    consent remembered) and the consent POST end at the client, so its origin is allowed;
    without it Chromium stops the browser on our page (found with a real browser)."""
    login = login_page(flow)
    assert _form_action(login) == ["'self'", "https://rp.example"]
    consent = consent_page(flow)
    assert _form_action(consent) == ["'self'", "https://rp.example"]
    error = flow.app.get("/login?interaction=nope", expect_errors=True)
    assert _form_action(error) == ["'self'"]  # other pages: ours only


def test_a_redirect_origin_cannot_break_out_of_the_policy() -> None:
    from oidc_core import responses

    for uri in ("https://a.example;script-src *", "https://a.example:443/cb", "javascript:x"):
        policy = responses.html_page("", form_redirects_to=uri).headers["Content-Security-Policy"]
        assert "script-src *" not in policy and policy.count(";") == 5


@pytest.mark.parametrize("earlier", [False, True], ids=["created", "from-0.4"])
def test_the_demo_clients_description_is_plain_text_on_the_consent_page(
    app: webtest.TestApp, provider: Provider, alice: Account, earlier: bool
) -> None:
    """``init --demo``'s client: the consent page shows its description as it is, so it
    holds no Markdown; a demo client of an earlier version gets the plain text when
    ``init --demo`` (or ``make serve``) resets it."""
    if earlier:
        make_client(
            provider.storage,
            cli.DEMO_CLIENT_NAME,
            cli.DEMO_REDIRECT_URIS,
            description="Created by `oidc-core init --demo`",
        )
    client, secret = provider.storage.clients.create_or_reset_demo(
        cli.DEMO_CLIENT_NAME, cli.DEMO_REDIRECT_URIS
    )
    flow = Flow(app, RP(client.client_id, secret, list(cli.DEMO_REDIRECT_URIS)), alice)
    consent = app.get(flow.login(app.get(flow.start().headers["Location"])).headers["Location"])
    assert "<p>Created by oidc-core init --demo</p>" in consent.text
    assert "`" not in consent.text
