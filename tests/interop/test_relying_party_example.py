"""The relying party example (``examples/relying_party/``) against a real provider.

The provider runs as ``oidc-core serve`` (``tests/support/live.py``); the example runs with
the command its README documents, on a free port, with a client registered for it and its
own temporary database.  A ``requests.Session`` plays the browser from the example's home
page through the provider's login and consent pages and back, and reads the example's
pages and database as a user and an auditor would.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests

from tests.support.live import (
    HTTP_TIMEOUT,
    LiveProvider,
    free_port,
    hidden,
    provider_at,
    stop,
    through_provider,
    wait_for,
)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "relying_party"
COMMAND = ".venv/bin/python examples/relying_party/app.py"  # as its README says
PASSWORD = "a long and correct password for the example"


@dataclass
class RelyingParty:
    url: str
    database: Path
    provider: LiveProvider

    def links(self) -> list[tuple[str, str, str]]:
        """The example's account_link table: (issuer, sub, local username)."""
        with sqlite3.connect(self.database) as connection:
            return connection.execute("SELECT issuer, sub, username FROM account_link").fetchall()


@dataclass
class User:
    email: str
    sub: str


def start_example(
    tmp: Path, provider: LiveProvider, request: pytest.FixtureRequest
) -> Iterator[RelyingParty]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client_id, client_secret = provider.create_client("Example RP", url + "/callback")
    env = {
        **os.environ,
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        "RP_PORT": str(port),
        "RP_DATABASE": str(tmp / "rp.db"),
    }
    argv = shlex.split(COMMAND)
    argv[0] = sys.executable  # this virtualenv's python, wherever it is
    log = tmp / "rp.log"
    failed_before = request.session.testsfailed
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for(url + "/", process, log)
        yield RelyingParty(url=url, database=tmp / "rp.db", provider=provider)
    finally:
        stop(process)
        if request.session.testsfailed > failed_before:
            print(f"--- relying party log ({log}) ---\n{log.read_text(errors='replace')}")
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert '" 500 ' not in text, text


@pytest.fixture(scope="module")
def provider(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveProvider]:
    with provider_at(tmp_path_factory.mktemp("op"), request) as live:
        yield live


@pytest.fixture(scope="module")
def rp(
    provider: LiveProvider,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[RelyingParty]:
    yield from start_example(tmp_path_factory.mktemp("rp"), provider, request)


@pytest.fixture
def user(provider: LiveProvider) -> User:
    """A new user at the provider, unknown to the relying party."""
    email = f"rp-{secrets.token_hex(6)}@example.com"
    return User(email, provider.create_user(email, PASSWORD, "Example Tester"))


def test_the_readme_documents_the_command() -> None:
    readme = (EXAMPLE / "README.md").read_text()
    assert COMMAND in readme
    assert COMMAND in (EXAMPLE / "app.py").read_text()
    assert "make serve" in readme


def log_in_at_provider(rp: RelyingParty, browser: requests.Session, user: User) -> str:
    """Home -> "Log in with ..." -> the provider's pages; the callback URL (not followed)."""
    provider = rp.provider
    home = browser.get(rp.url + "/", timeout=HTTP_TIMEOUT)
    assert home.status_code == 200
    assert f"Log in with oidc-core ({provider.issuer})" in home.text
    response = browser.get(rp.url + "/login", allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    assert location.startswith(provider.metadata["authorization_endpoint"] + "?"), location
    query = parse_qs(urlsplit(location).query)
    assert query["redirect_uri"] == [rp.url + "/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
    callback = through_provider(browser, provider.issuer, response, user.email, PASSWORD)
    assert callback.startswith(rp.url + "/callback?"), callback
    assert parse_qs(urlsplit(callback).query)["iss"] == [provider.issuer]
    return callback


def with_param(url: str, name: str, value: str | None) -> str:
    """``url`` with one query parameter replaced (or removed, for None)."""
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query) if k != name]
    if value is not None:
        params.append((name, value))
    return parts._replace(query=urlencode(params)).geturl()


def csrf(page: requests.Response) -> str:
    return hidden(page.text, "csrf_token")


def link(
    rp: RelyingParty, browser: requests.Session, username: str, password: str
) -> requests.Response:
    page = browser.get(rp.url + "/link", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and "Link your account" in page.text, page.text
    form = {"csrf_token": csrf(page), "username": username, "password": password}
    return browser.post(rp.url + "/link", data=form, allow_redirects=False, timeout=HTTP_TIMEOUT)


def signed_in_as(rp: RelyingParty, browser: requests.Session) -> str | None:
    """The local username the home page says we are, or None when signed out."""
    home = browser.get(rp.url + "/", timeout=HTTP_TIMEOUT)
    assert home.status_code == 200
    if "Log in with oidc-core" in home.text:
        return None
    marker = "You are the local account <b>"
    assert marker in home.text, home.text
    return home.text.split(marker)[1].split("</b>")[0]


def post(rp: RelyingParty, browser: requests.Session, path: str) -> requests.Response:
    """A button of the home page (sign out, unlink), with the page's CSRF token."""
    home = browser.get(rp.url + "/", timeout=HTTP_TIMEOUT)
    return browser.post(
        rp.url + path,
        data={"csrf_token": csrf(home)},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )


def test_first_login_links_a_local_account_then_logins_go_straight_in(
    rp: RelyingParty, user: User
) -> None:
    browser = requests.Session()
    callback = log_in_at_provider(rp, browser, user)
    cookie = browser.cookies["rp_session"]
    response = browser.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert (response.status_code, response.headers["Location"]) == (303, "/link")
    assert signed_in_as(rp, browser) is None
    page = browser.get(rp.url + "/link", timeout=HTTP_TIMEOUT)
    assert user.email in page.text and user.sub in page.text

    response = link(rp, browser, "alice", "alice-local-password")
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie, set_cookie
    assert browser.cookies["rp_session"] != cookie, "a new session id on sign-in"
    assert (rp.provider.issuer, user.sub, "alice") in rp.links()
    home = browser.get(rp.url + "/", timeout=HTTP_TIMEOUT)
    assert "You are the local account <b>alice</b> (Alice Local)" in home.text
    assert f"&quot;sub&quot;: &quot;{user.sub}&quot;" in home.text  # claims and UserInfo
    assert f"&quot;email&quot;: &quot;{user.email}&quot;" in home.text
    assert "&quot;nonce&quot;" in home.text  # the ID token's claims are shown

    response = post(rp, browser, "/logout")
    assert response.status_code == 303
    assert signed_in_as(rp, browser) is None

    # Signed in at the provider still: no provider page; and no link page any more.
    callback = log_in_at_provider(rp, browser, user)
    response = browser.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert signed_in_as(rp, browser) == "alice"

    # Another browser: the provider's password again, then straight in.
    other = requests.Session()
    response = other.get(log_in_at_provider(rp, other, user), allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert signed_in_as(rp, other) == "alice"

    # Unlink: the identity is unknown again.
    assert post(rp, other, "/unlink").status_code == 303
    assert signed_in_as(rp, other) is None
    assert all(sub != user.sub for _issuer, sub, _username in rp.links())
    response = other.get(log_in_at_provider(rp, other, user), allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (303, "/link")


def test_a_wrong_local_password_links_nothing(rp: RelyingParty, user: User) -> None:
    browser = requests.Session()
    response = browser.get(log_in_at_provider(rp, browser, user), allow_redirects=False)
    assert response.headers["Location"] == "/link"

    for username, password in [("bob", "alice-local-password"), ("nobody", "x")]:
        refused = link(rp, browser, username, password)
        assert refused.status_code == 403
        assert "Wrong username or password. Nothing was linked." in refused.text
        assert all(sub != user.sub for _issuer, sub, _username in rp.links())
        assert signed_in_as(rp, browser) is None

    # The form is bound to the session: without its token, even the right password fails.
    form = {"username": "bob", "password": "bob-local-password"}
    for token in ({}, {"csrf_token": "forged"}):
        refused = browser.post(rp.url + "/link", data={**form, **token}, allow_redirects=False)
        assert refused.status_code == 403
    assert all(sub != user.sub for _issuer, sub, _username in rp.links())

    accepted = link(rp, browser, "bob", "bob-local-password")
    assert accepted.status_code == 303
    assert (rp.provider.issuer, user.sub, "bob") in rp.links()
    assert signed_in_as(rp, browser) == "bob"


def test_a_forged_state_is_refused(rp: RelyingParty, user: User) -> None:
    browser = requests.Session()
    callback = log_in_at_provider(rp, browser, user)

    forged = browser.get(with_param(callback, "state", secrets.token_urlsafe(32)))
    assert forged.status_code == 400
    assert "unknown state" in forged.text
    # The state belongs to the browser that started the login, not to anyone holding it.
    elsewhere = requests.Session().get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert elsewhere.status_code == 400
    assert "unknown state" in elsewhere.text
    assert signed_in_as(rp, browser) is None

    # The genuine answer still works in the browser that asked for it; then only once.
    genuine = browser.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert (genuine.status_code, genuine.headers["Location"]) == (303, "/link")
    again = browser.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert again.status_code == 400


@pytest.mark.parametrize("iss", ["http://evil.example", None])
def test_a_response_from_another_issuer_is_refused(
    rp: RelyingParty, user: User, iss: str | None
) -> None:
    browser = requests.Session()
    callback = log_in_at_provider(rp, browser, user)
    refused = browser.get(with_param(callback, "iss", iss), timeout=HTTP_TIMEOUT)
    assert refused.status_code == 400
    assert "does not come from the expected issuer" in refused.text
    assert signed_in_as(rp, browser) is None
    # The login is over: the genuine response cannot be replayed after it.
    assert browser.get(callback, timeout=HTTP_TIMEOUT).status_code == 400


def test_a_code_from_another_login_is_refused(rp: RelyingParty, user: User) -> None:
    """Code injection: the victim's code pasted into the attacker's own callback (PKCE)."""
    victim = requests.Session()
    stolen_code = parse_qs(urlsplit(log_in_at_provider(rp, victim, user)).query)["code"][0]
    attacker = requests.Session()
    own_callback = log_in_at_provider(rp, attacker, user)
    injected = attacker.get(with_param(own_callback, "code", stolen_code), timeout=HTTP_TIMEOUT)
    assert injected.status_code == 400
    assert "invalid_grant" in injected.text
    assert signed_in_as(rp, attacker) is None


@pytest.fixture(scope="module")
def rp_under_prefix(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RelyingParty]:
    with provider_at(tmp_path_factory.mktemp("op-prefix"), request, prefix="/oidc") as live:
        yield from start_example(tmp_path_factory.mktemp("rp-prefix"), live, request)


def test_an_issuer_with_a_path(rp_under_prefix: RelyingParty) -> None:
    """Every URL comes from discovery: the provider may live under /oidc."""
    rp = rp_under_prefix
    assert rp.provider.issuer.endswith("/oidc")
    email = f"rp-{secrets.token_hex(6)}@example.com"
    user = User(email, rp.provider.create_user(email, PASSWORD, "Example Tester"))
    browser = requests.Session()
    response = browser.get(log_in_at_provider(rp, browser, user), allow_redirects=False)
    assert response.headers["Location"] == "/link"
    assert link(rp, browser, "alice", "alice-local-password").status_code == 303
    assert signed_in_as(rp, browser) == "alice"
    assert rp.links() == [(rp.provider.issuer, user.sub, "alice")]
