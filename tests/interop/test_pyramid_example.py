"""The Pyramid example (``examples/pyramid_app/``): a billing system with the provider inside.

The example runs with the command its README documents, on a free loopback port, with its
two SQLite databases in a temporary directory; the demo client it registers and prints at
start plays the relying party.  A ``requests.Session`` plays the browser through the
billing system's own login page and the provider's consent page; redirects to the relying
party are read from ``Location``, never followed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from argon2 import PasswordHasher

from tests.support.live import HTTP_TIMEOUT, free_port, hidden, stop, wait_for

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
COMMAND = ".venv/bin/python examples/pyramid_app/app.py"  # as its README says
ALICE = ("alice@billing.example", "alice-demo-password", "Alice Example")  # README's demo
SCOPE = "openid profile email"


@dataclass
class Billing:
    url: str  # the billing system, http://127.0.0.1:<port>
    issuer: str  # the provider inside it, <url>/oidc
    metadata: dict[str, Any]
    client_id: str  # the demo client printed at start
    client_secret: str
    redirect_uri: str
    database: Path  # the billing system's own customers

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """One statement on the billing system's own database, committed."""
        with closing(sqlite3.connect(self.database)) as db, db:
            return db.execute(statement, params).fetchall()

    def add_customer(self, name: str, password: str) -> str:
        """A new customer, as the billing system's sign-up would add one; their email."""
        email = f"customer-{secrets.token_hex(4)}@billing.example"
        self.sql(
            "INSERT INTO customer (email, full_name, password_hash) VALUES (?, ?, ?)",
            email,
            name,
            PasswordHasher().hash(password),
        )
        return email


@pytest.fixture(scope="module")
def billing(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Billing]:
    tmp = tmp_path_factory.mktemp("pyramid_app")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BILLING_PORT": str(port), "BILLING_VAR": str(tmp)}
    argv = shlex.split(COMMAND)
    argv[0] = sys.executable  # this virtualenv's python, wherever it is
    log = tmp / "billing.log"
    failed_before = request.session.testsfailed
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        discovery = wait_for(url + "/oidc/.well-known/openid-configuration", process, log)
        printed = log.read_text()
        yield Billing(
            url=url,
            issuer=url + "/oidc",
            metadata=dict(discovery.json()),
            client_id=_printed(printed, "client_id"),
            client_secret=_printed(printed, "client_secret"),
            redirect_uri=_printed(printed, "redirect URI"),
            database=tmp / "billing.db",
        )
    finally:
        stop(process)
        if request.session.testsfailed > failed_before:
            print(f"--- example log ({log}) ---\n{log.read_text(errors='replace')}")
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert not re.search(r'" 5\d\d ', text), text


def _printed(log: str, label: str) -> str:
    match = re.search(rf"{label}: (\S+)", log)
    assert match, f"{label!r} not printed at start:\n{log}"
    return match.group(1)


# -- The browser --------------------------------------------------------------------------------


def _get(browser: requests.Session, url: str, **params: str) -> requests.Response:
    return browser.get(url, params=params, allow_redirects=False, timeout=HTTP_TIMEOUT)


def _post(browser: requests.Session, url: str, form: dict[str, str]) -> requests.Response:
    return browser.post(url, data=form, allow_redirects=False, timeout=HTTP_TIMEOUT)


def _location(response: requests.Response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    return urljoin(response.url, response.headers["Location"])


def _sign_in_at_billing(
    browser: requests.Session, billing: Billing, email: str, password: str, next_url: str = ""
) -> requests.Response:
    """The billing system's login page, read and posted back as a browser does."""
    page = _get(browser, billing.url + "/login", **({"next": next_url} if next_url else {}))
    assert page.status_code == 200, page.text
    form = {"csrf_token": hidden(page.text, "csrf_token"), "next": hidden(page.text, "next")}
    return _post(browser, billing.url + "/login", {**form, "email": email, "password": password})


@dataclass
class Request:
    state: str
    nonce: str
    verifier: str


def _authorize(browser: requests.Session, billing: Billing) -> tuple[requests.Response, Request]:
    """The relying party sends the browser to the authorization endpoint (PKCE S256)."""
    auth = Request(secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48))
    digest = hashlib.sha256(auth.verifier.encode()).digest()
    params = {
        "client_id": billing.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": billing.redirect_uri,
        "state": auth.state,
        "nonce": auth.nonce,
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return _get(browser, billing.metadata["authorization_endpoint"], **params), auth


def _leave_provider(
    browser: requests.Session, billing: Billing, response: requests.Response
) -> str:
    """Follow the provider's redirects, showing no page; the first URL outside it."""
    for _ in range(4):
        location = _location(response)
        if not location.startswith(billing.issuer + "/"):
            return location
        response = _get(browser, location)
    raise AssertionError("too many redirects")


def _to_consent(browser: requests.Session, billing: Billing, response: requests.Response) -> str:
    """Follow the provider's redirects to its consent page; that page's HTML."""
    for _ in range(4):
        location = _location(response)
        assert location.startswith(billing.issuer + "/"), f"left the provider for {location}"
        response = _get(browser, location)
        if response.status_code == 200:
            assert urlsplit(location).path == "/oidc/consent", location
            return response.text
    raise AssertionError("no consent page")


def _allow(browser: requests.Session, billing: Billing, consent: str, auth: Request) -> str:
    """Allow on the consent page; the code sent to the relying party."""
    form = {
        "interaction": hidden(consent, "interaction"),
        "csrf_token": hidden(consent, "csrf_token"),
        "decision": "allow",
    }
    callback = _location(_post(browser, billing.issuer + "/consent", form))
    assert callback.startswith(billing.redirect_uri + "?"), callback
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [auth.state]
    assert query["iss"] == [billing.issuer]
    return query["code"][0]


def _tokens(billing: Billing, code: str, auth: Request) -> dict[str, Any]:
    """The relying party's code exchange, client_secret_basic (and no CSRF token)."""
    response = requests.post(
        billing.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": billing.redirect_uri,
            "code_verifier": auth.verifier,
        },
        auth=(billing.client_id, billing.client_secret),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _id_token_claims(billing: Billing, id_token: str, auth: Request) -> dict[str, Any]:
    jwks = requests.get(billing.metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    claims = jwt.decode(
        id_token,
        key,
        algorithms=["RS256"],
        audience=billing.client_id,
        issuer=billing.issuer,
        options={"require": ["iss", "aud", "sub", "exp", "iat", "nonce"]},
    )
    assert claims["nonce"] == auth.nonce
    return dict(claims)


def _userinfo(billing: Billing, access_token: str) -> dict[str, Any]:
    response = requests.get(
        billing.metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- The tests ---------------------------------------------------------------------------------


def test_signed_out_customer_signs_in_at_billing_then_consents(billing: Billing) -> None:
    email, password, name = ALICE
    browser = requests.Session()
    response, auth = _authorize(browser, billing)

    # The provider has nobody signed in: it sends the browser to the billing login page.
    login = _leave_provider(browser, billing, response)
    assert login.startswith(billing.url + "/login?"), login
    next_url = parse_qs(urlsplit(login).query)["next"][0]
    assert next_url.startswith(billing.issuer + "/login?interaction="), next_url

    signed_in = _sign_in_at_billing(browser, billing, email, password, next_url)
    assert _location(signed_in) == next_url  # back to the provider
    consent = _to_consent(browser, billing, _get(browser, next_url))
    assert email in consent  # the consent page names the customer

    tokens = _tokens(billing, _allow(browser, billing, consent, auth), auth)
    claims = _id_token_claims(billing, tokens["id_token"], auth)
    info = _userinfo(billing, tokens["access_token"])
    assert info["sub"] == claims["sub"]
    assert info["name"] == name
    assert info["email"] == email
    # The provider never publishes the billing system's key for the customer.
    [(number,)] = billing.sql("SELECT number FROM customer WHERE email = ?", email)
    assert str(number) != claims["sub"]


def test_userinfo_reads_the_billing_table_live(billing: Billing) -> None:
    email = billing.add_customer("Carol Before", "carol's password")
    browser = requests.Session()
    assert _location(_sign_in_at_billing(browser, billing, email, "carol's password")) == (
        billing.url + "/"
    )
    response, auth = _authorize(browser, billing)
    code = _allow(browser, billing, _to_consent(browser, billing, response), auth)
    access_token = _tokens(billing, code, auth)["access_token"]
    assert _userinfo(billing, access_token)["name"] == "Carol Before"

    billing.sql("UPDATE customer SET full_name = 'Carol After' WHERE email = ?", email)
    assert _userinfo(billing, access_token)["name"] == "Carol After"


def test_signed_in_customer_goes_straight_to_consent(billing: Billing) -> None:
    email = billing.add_customer("Dave Example", "dave's password")
    browser = requests.Session()
    home = _sign_in_at_billing(browser, billing, email, "dave's password")
    assert _location(home) == billing.url + "/"
    assert "Dave Example" in _get(browser, billing.url + "/").text

    response, auth = _authorize(browser, billing)
    consent = _to_consent(browser, billing, response)  # no login page on the way
    assert email in consent
    code = _allow(browser, billing, consent, auth)
    sub = _id_token_claims(billing, _tokens(billing, code, auth)["id_token"], auth)["sub"]

    # The next authorization of the same customer: consented already, the code at once.
    response, auth = _authorize(browser, billing)
    callback = _leave_provider(browser, billing, response)
    assert callback.startswith(billing.redirect_uri + "?"), callback
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert _id_token_claims(billing, _tokens(billing, code, auth)["id_token"], auth)["sub"] == sub

    # Signed out of the billing system: the provider follows, back to the billing login.
    page = _get(browser, billing.url + "/")
    signed_out = _post(
        browser, billing.url + "/logout", {"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert _location(signed_out) == billing.url + "/"
    response, _auth = _authorize(browser, billing)
    assert _leave_provider(browser, billing, response).startswith(billing.url + "/login?")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "{issuer}.evil.example/",
        "{issuer}@evil.example/",
        "javascript:alert(1)",
    ],
)
def test_login_does_not_follow_a_next_outside_the_provider(billing: Billing, next_url: str) -> None:
    email, password, _name = ALICE
    browser = requests.Session()
    response = _sign_in_at_billing(
        browser, billing, email, password, next_url.format(issuer=billing.issuer)
    )
    assert _location(response) == billing.url + "/"
    assert "Alice Example" in _get(browser, billing.url + "/").text  # signed in all the same


def test_login_page_escapes_next(billing: Billing) -> None:
    page = _get(requests.Session(), billing.url + "/login", next='"><script>alert(1)</script>')
    assert page.status_code == 200
    assert "<script>" not in page.text


def test_wrong_password_is_refused(billing: Billing) -> None:
    email, _password, _name = ALICE
    browser = requests.Session()
    for login in (email, "nobody@billing.example"):
        response = _sign_in_at_billing(browser, billing, login, "not the password")
        assert response.status_code == 401
        assert "not correct" in response.text
    assert "not signed in" in _get(browser, billing.url + "/").text


def test_billing_csrf_policy_still_guards_its_own_forms(billing: Billing) -> None:
    email, password, name = ALICE
    browser = requests.Session()
    assert _get(browser, billing.url + "/").status_code == 200

    # A login POST without the session's CSRF token is refused, even with the password.
    _get(browser, billing.url + "/login")
    refused = _post(browser, billing.url + "/login", {"email": email, "password": password})
    assert refused.status_code == 400
    assert "not signed in" in _get(browser, billing.url + "/").text

    # Signed in, a logout POST without the token is refused too: still signed in.
    _sign_in_at_billing(browser, billing, email, password)
    assert _post(browser, billing.url + "/logout", {}).status_code == 400
    assert name in _get(browser, billing.url + "/").text


def test_provider_token_endpoint_needs_no_billing_csrf_token(billing: Billing) -> None:
    """The relying party's POST reaches the provider, which answers in OAuth terms."""
    response = requests.post(
        billing.metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": "not-a-code",
            "redirect_uri": billing.redirect_uri,
        },
        auth=(billing.client_id, billing.client_secret),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
