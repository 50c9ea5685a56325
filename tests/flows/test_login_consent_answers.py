"""What a login or a consent answers: no account enumeration (T-24), password lengths
(T-28), deny (T-29), and 303 after POST (T-30).
"""

from __future__ import annotations

import argon2
import pytest
import webtest

from oidc_core import Provider
from tests.conftest import FAST_PASSWORDS, make_user
from tests.support.flow import RP, Account, Flow, issuer_of
from tests.support.login_consent import CB2, STATE, consent_page, login_page, post_form
from tests.support.login_consent_checks import assert_page, assert_rp_redirect
from tests.support.login_consent_rows import code_rows, consent_rows, logged_in_sessions

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
