"""Double-submitted consent gives one code (T-61), a parked request is checked again, and
what the consent page and the forms' targets show.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest
import webtest

from oidc_core import Provider, cli
from oidc_core.records import ClientFields
from oidc_core.storage import Storage
from tests.conftest import make_client, new_app
from tests.support.flow import RP, Account, Flow
from tests.support.login_consent import STATE, consent_page, login_page
from tests.support.login_consent_checks import assert_page, assert_rp_redirect
from tests.support.login_consent_rows import code_rows, count

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
