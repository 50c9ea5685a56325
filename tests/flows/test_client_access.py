"""The host's per-client access rule, ``Provider(settings, client_access=...)``
(docs/hosting.md "Who may use which application").

The rule here is what a billing system would plug in: a customer whose contract does not
include an application may not use it.  It is asked before every code (after the login,
after the consent, silently in a live session, with host login) and at every refresh; a
refusal is ``access_denied`` on the registered redirect URI with ``state`` and ``iss``
(``invalid_grant`` at refresh), and no code is stored (SECURITY-CHECKLIST ACC-9, ACC-10).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import webtest

from oidc_core import Provider, Settings
from oidc_core.accounts import Account as SourceAccount
from oidc_core.accounts import PublicClient
from oidc_core.storage import Storage
from tests.support import account_pages
from tests.support.account_status import count
from tests.support.flow import RP, Account, Flow, hidden, query_of
from tests.support.token_endpoint import assert_error
from tests.support.tokens import refresh

pytestmark = pytest.mark.mounts("one")

ROOT = "https://op.example"
CODES = "SELECT COUNT(*) FROM oidc_authorization_code"


class Contracts:
    """The host's rule: which customers may use which application (by client_id)."""

    def __init__(self) -> None:
        self.refused: set[str] = set()
        self.asked: list[tuple[SourceAccount, PublicClient]] = []

    def __call__(self, account: SourceAccount, client: PublicClient) -> bool:
        self.asked.append((account, client))
        return client.client_id not in self.refused


@pytest.fixture
def contracts() -> Contracts:
    return Contracts()


@pytest.fixture
def ruled(settings: Settings, storage: Storage, contracts: Contracts) -> Provider:
    root = dataclasses.replace(settings, issuer=ROOT)
    return Provider(root, storage=storage, client_access=contracts)


def browser(provider: Provider) -> webtest.TestApp:
    return webtest.TestApp(
        provider, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
    )


@pytest.fixture
def rp(storage: Storage) -> RP:
    return account_pages.offline_rp(storage, "Webmail", "mail.example")


def assert_denied(response: webtest.TestResponse, rp: RP, state: str) -> None:
    assert response.status_int in (302, 303), (response.status, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uris[0] + "?")
    query = query_of(location)
    assert query["error"] == "access_denied"
    assert query["state"] == state
    assert query["iss"] == ROOT
    assert "code" not in query


def test_refused_after_the_consent(
    ruled: Provider, contracts: Contracts, rp: RP, alice: Account
) -> None:
    contracts.refused.add(rp.client_id)
    flow = Flow(browser(ruled), rp, alice)
    consent = flow.login(flow.app.get(flow.start(state="s1").headers["Location"]))
    assert consent.headers["Location"].startswith(f"{ROOT}/consent?")
    assert_denied(flow.consent(flow.app.get(consent.headers["Location"])), rp, "s1")
    assert count(ruled, CODES) == 0


def test_refused_right_after_the_login_and_silently_in_a_live_session(
    ruled: Provider, contracts: Contracts, rp: RP, alice: Account
) -> None:
    assert "code" in Flow(browser(ruled), rp, alice).authorize()  # consent remembered
    contracts.refused.add(rp.client_id)
    codes = count(ruled, CODES)
    flow = Flow(browser(ruled), rp, alice)
    assert_denied(flow.login(flow.app.get(flow.start(state="s2").headers["Location"])), rp, "s2")
    for prompt in ("none", None):  # the same browser, signed in now
        assert_denied(flow.start(prompt=prompt, state="s3"), rp, "s3")
    assert count(ruled, CODES) == codes

    contracts.refused.clear()
    assert "code" in query_of(flow.start(prompt="none").headers["Location"])


def test_refused_for_a_host_login_user(
    settings: Settings, storage: Storage, contracts: Contracts, rp: RP, alice: Account
) -> None:
    def signed_in_host_user(request: Any) -> SourceAccount | None:
        return ruled.accounts.source.by_login(alice.email)

    root = dataclasses.replace(settings, issuer=ROOT)
    ruled = Provider(root, storage=storage, host_login=signed_in_host_user, client_access=contracts)
    contracts.refused.add(rp.client_id)
    flow = Flow(browser(ruled), rp, alice)
    page = flow.app.get(flow.start(state="s4").headers["Location"])  # the consent page
    assert_denied(flow.consent(page), rp, "s4")


def test_refused_at_refresh_once_the_contract_ends(
    ruled: Provider, contracts: Contracts, rp: RP, alice: Account
) -> None:
    app = browser(ruled)
    body = account_pages.tokens(app, rp, alice)
    contracts.refused.add(rp.client_id)
    assert_error(refresh(app, rp, body["refresh_token"]), 400, "invalid_grant")
    contracts.refused.clear()
    assert refresh(app, rp, body["refresh_token"]).status_int == 200  # not used up


def test_the_rule_sees_the_account_and_the_public_client_only(
    ruled: Provider, contracts: Contracts, rp: RP, alice: Account
) -> None:
    assert "code" in Flow(browser(ruled), rp, alice).authorize()
    account, client = contracts.asked[-1]
    assert (account.login, account.claims["name"]) == (alice.email, "Alice Liddell")
    assert (client.client_id, client.name, client.client_uri) == (
        rp.client_id,
        "Webmail",
        "https://mail.example",
    )
    fields = {field.name for field in dataclasses.fields(client)}
    assert not {name for name in fields if "secret" in name or "digest" in name}


def test_without_a_rule_every_active_account_may_use_every_client(
    app: webtest.TestApp, provider: Provider, client_a: RP, alice: Account
) -> None:
    assert provider.accounts.client_access is None
    flow = Flow(app, client_a, alice)
    page = app.get(flow.start().headers["Location"])
    assert hidden(page, "csrf_token")
    assert "code" in flow.authorize()
