"""Brute-force protection on a real server: ``oidc-core serve`` with two worker processes.

Parallel wrong passwords land on both workers; the counters live in the database, so the
lock engages at the threshold whichever process answers (SECURITY-CHECKLIST T-25).  An
operator clears the lock with ``oidc-core user unlock``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urljoin

import pytest
import requests

from oidc_core.testing import pkce_pair
from tests.support.live import HTTP_TIMEOUT, LiveProvider, hidden, provider_at, through_provider

pytestmark = pytest.mark.server

THRESHOLD = 5
GENERIC_FAILURE = "The email address or password is not correct."
CALLBACK = "https://rp.example/cb"


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveProvider]:
    settings = {
        "OIDC_LOGIN_PAIR_LOCK_THRESHOLD": str(THRESHOLD),
        "OIDC_LOGIN_IP_LOCK_THRESHOLD": "1000",
        "OIDC_PASSWORD_HASH_CONCURRENCY": "2",
    }
    with provider_at(tmp_path_factory.mktemp("op"), request, settings=settings) as provider:
        yield provider


def start(live: LiveProvider, client_id: str) -> tuple[requests.Session, requests.Response]:
    """A browser at the login page of a new authorization request."""
    browser = requests.Session()
    _, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    redirect = browser.get(
        f"{live.issuer}/authorize?{query}", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    assert redirect.status_code == 303, redirect.text[:500]
    page = browser.get(urljoin(redirect.url, redirect.headers["Location"]), timeout=HTTP_TIMEOUT)
    assert page.status_code == 200
    return browser, page


def log_in(
    browser: requests.Session, page: requests.Response, email: str, password: str
) -> requests.Response:
    form = {
        "interaction": hidden(page.text, "interaction"),
        "csrf_token": hidden(page.text, "csrf_token"),
        "email": email,
        "password": password,
    }
    return browser.post(
        page.url.split("?")[0], data=form, allow_redirects=False, timeout=HTTP_TIMEOUT
    )


def test_parallel_wrong_passwords_on_two_workers_lock_at_the_threshold(
    live: LiveProvider,
) -> None:
    """T-25 across processes: of 24 parallel wrong passwords at most the threshold are
    checked (401), the rest are refused (429, the generic message); the right password is
    refused too until ``oidc-core user unlock``, then it signs in."""
    email = f"{secrets.token_hex(6)}@example.com"
    password = "the right password"
    live.create_user(email, password, "Target")
    client_id, _ = live.create_client("Throttle RP", CALLBACK)
    attempts = [start(live, client_id) for _ in range(24)]
    barrier = threading.Barrier(len(attempts))

    def attempt(n: int) -> tuple[int, str]:
        barrier.wait(timeout=30)
        browser, page = attempts[n]
        response = log_in(browser, page, email, f"guess {n}")
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        answers = list(pool.map(attempt, range(len(attempts))))
    statuses = [status for status, _ in answers]
    assert statuses.count(401) <= THRESHOLD
    assert statuses.count(401) + statuses.count(429) == len(attempts)
    assert all(GENERIC_FAILURE in text for _, text in answers)
    browser, page = attempts[0]
    refused = log_in(browser, page, email, password)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 900
    assert f"{email}: 2 counter(s) cleared" in live.cli("user", "unlock", "--email", email)
    signed_in = log_in(browser, page, email, password)
    assert signed_in.status_code == 303
    assert through_provider(browser, live.issuer, signed_in, email, password).startswith(CALLBACK)


def test_unlock_clears_an_address(live: LiveProvider) -> None:
    client_id, _ = live.create_client("Throttle RP 2", CALLBACK)
    browser, page = start(live, client_id)
    assert log_in(browser, page, "nobody@example.com", "wrong").status_code == 401
    cleared = live.cli("user", "unlock", "--address", "127.0.0.1")
    assert "127.0.0.1: 1 counter(s) cleared" in cleared
