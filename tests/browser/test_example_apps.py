"""The examples' documented browser flow, in headless Chromium (issue 14).

Each host example (``pyramid_app``, ``bottle_app``, ``wsgi_middleware``) and the relying
party example (``relying_party``) run with the commands their READMEs give, on free
loopback ports and temporary databases.  Chromium opens the relying party, clicks "Log in
with oidc-core", signs in (at the billing system's own page for the Pyramid example, at the
provider's otherwise), allows, links the identity to the local account ``alice`` and lands
on the relying party's "Signed in" page, which shows the UserInfo the relying party read.
Then it signs out and logs in again: straight in, with no link page this time.

A real browser with a profile of its own matters here: as a person's browser does, it
learns where navigations lead and connects to those hosts ahead of time, leaving some
connections idle.  A single-threaded development server then sits waiting on a socket
that sends nothing while the relying party's server-side token request waits in its
backlog until it times out ("cannot reach .../oidc/token: timed out").  The examples serve
a thread per connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.support.chromium import launched_with_profile
from tests.support.examples import environment, printed, readme_argv, running
from tests.support.live import free_port, run_cli

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.server, pytest.mark.browser]

RP_COMMAND = ".venv/bin/python examples/relying_party/app.py"  # its README's
RP_NAME = "Example relying party in Chromium"
LOCAL_ACCOUNT = ("alice", "alice-local-password")  # the relying party's README
ALICE = ("alice@billing.example", "alice-demo-password", "Alice Example")  # pyramid_app's
DEMO_EMAIL = "demo@example.com"  # oidc-core init --demo


@dataclass
class Provider:
    """A host example running, with the provider inside it."""

    origin: str  # http://127.0.0.1:<port>
    issuer: str  # <origin>/oidc
    env: dict[str, str]  # for oidc-core commands on its database
    printed: str  # what it printed at start


@contextmanager
def host_example(name: str, tmp: Path, request: pytest.FixtureRequest) -> Iterator[Provider]:
    """``.venv/bin/python examples/<name>/app.py`` (each README's command), on a free port."""
    origin = f"http://127.0.0.1:{free_port()}"
    issuer = origin + "/oidc"
    env = environment(tmp, issuer)
    if name == "pyramid_app":  # its own settings: BILLING_PORT and BILLING_VAR
        env.update(BILLING_PORT=origin.rsplit(":", 1)[1], BILLING_VAR=str(tmp))
        env["OIDC_DATABASE_URL"] = f"sqlite:///{tmp / 'oidc.db'}"  # development.ini's
    argv = readme_argv(f".venv/bin/python examples/{name}/app.py")
    ready = issuer + "/.well-known/openid-configuration"
    with running(argv, env, ready, tmp / f"{name}.log", request) as text:
        yield Provider(origin, issuer, env, text)


@contextmanager
def relying_party(provider: Provider, tmp: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The relying party example against ``provider``, with a client registered for its port
    (its README: "the redirect URI is http://127.0.0.1:$RP_PORT/callback: register it")."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    redirect_uri = url + "/callback"
    create = ["client", "create", "--name", RP_NAME, "--redirect-uri", redirect_uri]
    client = json.loads(run_cli(provider.env, *create, "--require-pkce", "--json"))
    env = {
        **provider.env,
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": client["client_id"],
        "OIDC_CLIENT_SECRET": client["client_secret"],
        "RP_PORT": str(port),
        "RP_DATABASE": str(tmp / "relying_party.db"),
    }
    with running(readme_argv(RP_COMMAND), env, url + "/", tmp / "relying_party.log", request):
        yield url


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A tab of headless Chromium with a new profile (:mod:`tests.support.chromium`)."""
    with launched_with_profile(tmp_path / "profile") as browser:
        yield browser.new_page()


def expect_page(page: Page, heading: str) -> None:
    """The page's heading is ``heading``; if not, the failure shows the page's text."""
    try:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    except AssertionError:
        raise AssertionError(
            f"expected the page {heading!r} at {page.url}, got:\n{page.inner_text('body')}"
        ) from None


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def log_in_at_relying_party(page: Page, rp: str) -> None:
    page.goto(rp + "/")
    expect_page(page, "Demo relying party")
    page.get_by_role("button", name=re.compile("^Log in with oidc-core")).click()


def allow_and_link(page: Page) -> None:
    """Consent, then link the identity to the local account once (the token exchange, the
    ID token and UserInfo happen in between, on the relying party's server)."""
    expect_page(page, RP_NAME)
    page.get_by_role("button", name="Allow").click()
    expect_page(page, "Link your account")
    page.get_by_label("Username").fill(LOCAL_ACCOUNT[0])
    page.get_by_label("Password").fill(LOCAL_ACCOUNT[1])
    page.get_by_role("button", name="Link and sign in").click()


def expect_signed_in_then_sign_out(page: Page, email: str) -> None:
    """The relying party's page of a signed-in user, with the UserInfo it read; sign out."""
    expect_page(page, "Signed in")
    expect(page.get_by_text(f"You are the local account {LOCAL_ACCOUNT[0]}")).to_be_visible()
    expect(page.locator("pre").last).to_contain_text(f'"email": "{email}"')  # UserInfo
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect_page(page, "Demo relying party")


def test_the_pyramid_example_signs_in_to_the_relying_party_example(
    page: Page, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """examples/pyramid_app/README.md, "What to try", steps 1 to 4."""
    email, password, name = ALICE
    with (
        host_example("pyramid_app", tmp_path, request) as billing,
        relying_party(billing, tmp_path, request) as rp,
    ):
        # 1. Sign in to the billing system.
        page.goto(billing.origin + "/")
        page.get_by_role("link", name="Sign in").click()
        sign_in(page, email, password)
        expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
        # 2-3. At the relying party: straight to consent, no second password.
        log_in_at_relying_party(page, rp)
        allow_and_link(page)
        expect_signed_in_then_sign_out(page, email)
        # 4. Signed out of billing: the provider sends the browser to billing's login page.
        page.goto(billing.origin + "/")
        page.get_by_role("button", name="Sign out").click()
        log_in_at_relying_party(page, rp)
        expect_page(page, "Sign in to Billing")
        sign_in(page, email, password)
        expect_signed_in_then_sign_out(page, email)  # consent given and identity linked before


@pytest.mark.parametrize("example", ["bottle_app", "wsgi_middleware"])
def test_an_example_with_the_providers_login_signs_in_to_the_relying_party_example(
    example: str, page: Page, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The relying party's README: log in, allow, link to ``alice``; then again, no link."""
    with (
        host_example(example, tmp_path, request) as provider,
        relying_party(provider, tmp_path, request) as rp,
    ):
        log_in_at_relying_party(page, rp)
        expect_page(page, "Sign in")
        sign_in(page, DEMO_EMAIL, printed(provider.printed, "password"))
        allow_and_link(page)
        expect_signed_in_then_sign_out(page, DEMO_EMAIL)
        log_in_at_relying_party(page, rp)  # the provider's session: straight back
        expect_signed_in_then_sign_out(page, DEMO_EMAIL)
