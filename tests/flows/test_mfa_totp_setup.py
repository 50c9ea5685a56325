"""An authenticator app being set up belongs to the browser session that set it up
(``oidc_core.mfa.totp_setup``): a secret made on the account pages is never shown to a
sign-in's enrolment page, nor the other way round; two browsers enrolling at once each
keep their own; a code of another session's secret confirms nothing.  Setting up an app
next to a passkey needs the password or a code; a half-done sign-in of an account
suspended after its password ends there.  SECURITY-CHECKLIST MFA-12..MFA-15.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.conftest import make_client, new_app
from tests.support import account_pages
from tests.support.account_pages import post
from tests.support.account_status import set_status
from tests.support.flow import RP, Account, Flow, hidden
from tests.support.mfa import (
    Authenticator,
    action_of,
    recovery_codes_of,
    second_factor_page,
    second_step,
    secret_of,
)
from tests.support.passkeys import add, authenticator_for
from tests.support.race import racing

pytestmark = pytest.mark.mounts("one")

EXPIRED = "This sign-in has expired or was started in another browser. Sign in again."
WRONG_PROOF = "This is neither your password nor a valid code."


@pytest.fixture
def bank(storage: Storage) -> RP:
    return make_client(storage, "Bank", ["https://bank.example/cb"], require_mfa=True)


def bank_enrolment(provider: Provider, bank: RP, user: Account) -> webtest.TestResponse:
    """A new browser past ``user``'s password at Bank: the enrolment page of its sign-in."""
    app = new_app(provider)
    flow = Flow(app, bank, user)
    page = flow.login(app.get(flow.start().headers["Location"]))
    second_factor_page(page, "/login/second-factor")
    assert "Set up two-step verification" in page.text
    return page


def reload(page: webtest.TestResponse) -> webtest.TestResponse:
    """The page's own second-factor address again, in its own browser."""
    return page.test_app.get(action_of(page), expect_errors=True)


def account_setup(app: webtest.TestApp, **fields: str) -> webtest.TestResponse:
    """'Set up an authenticator app' on the account pages of browser ``app``."""
    token = hidden(app.get("/account/security"), "csrf_token")
    return post(app, "/account/security/totp", fields, token=token)


def account_confirm(app: webtest.TestApp, code: str) -> webtest.TestResponse:
    token = hidden(app.get("/account/security"), "csrf_token")
    return post(app, "/account/security/totp/confirm", {"code": code}, token=token)


def stored_secret(provider: Provider, user: Account) -> str | None:
    record = provider.storage.users.by_email(user.email)
    assert record is not None
    found = provider.storage.factors.totp(record.id)
    assert found is None or found.confirmed  # nothing unconfirmed is stored
    return found.secret if found else None


def test_a_secret_set_up_on_the_account_pages_never_reaches_a_sign_in(
    provider: Provider, bank: RP, alice: Account
) -> None:
    """MFA-12, the reviewer's attack: the attacker, who knows the password, waits on Bank's
    enrolment page while the victim sets up an app on /account; reloading shows him his
    own secret still, the victim's code confirms nothing for him, and the victim's app
    is the one turned on."""
    attacker = bank_enrolment(provider, bank, alice)
    own = secret_of(attacker)
    victim = account_pages.browser(provider, alice)
    setup = account_setup(victim)
    assert setup.status_int == 200, setup.text[:500]
    victims = Authenticator(secret_of(setup))
    assert victims.secret != own
    again = reload(attacker)
    assert again.status_int == 200 and secret_of(again) == own
    stolen = second_step(attacker.test_app, attacker, victims.code())
    assert stolen.status_int == 401 and "Location" not in stolen.headers
    assert stored_secret(provider, alice) is None
    done = account_confirm(victim, victims.code())
    assert done.status_int == 200 and len(recovery_codes_of(done)) == 10
    assert stored_secret(provider, alice) == victims.secret
    # his own secret's first code no longer turns anything on: alice has her app now
    late = second_step(attacker.test_app, attacker, Authenticator(own).code())
    assert late.status_int != 303 and "recovery-codes" not in late.text
    assert stored_secret(provider, alice) == victims.secret


def test_a_sign_ins_secret_never_reaches_the_account_pages(
    provider: Provider, bank: RP, alice: Account
) -> None:
    """MFA-12, the other way round: a secret set up on the account pages first is neither
    replaced nor shown by a sign-in's enrolment, and the sign-in's secret does not turn
    on the account page's setup."""
    owner = account_pages.browser(provider, alice)
    setup = account_setup(owner)
    mine = Authenticator(secret_of(setup))
    other = bank_enrolment(provider, bank, alice)
    theirs = Authenticator(secret_of(other))
    assert theirs.secret != mine.secret
    refused = account_confirm(owner, theirs.code())
    assert refused.status_int == 400 and "The code is not correct." in refused.text
    assert secret_of(refused) == mine.secret  # the setup goes on, with its own secret
    assert stored_secret(provider, alice) is None
    done = account_confirm(owner, mine.code())
    assert done.status_int == 200, done.text[:500]
    assert stored_secret(provider, alice) == mine.secret


def test_two_sign_ins_enrolling_at_once_each_keep_their_own_secret(
    provider: Provider, bank: RP, alice: Account
) -> None:
    """MFA-13: two browsers on Bank's enrolment page for one user: each shows its own
    secret on every reload, and one's code confirms nothing in the other."""
    first, second = bank_enrolment(provider, bank, alice), bank_enrolment(provider, bank, alice)
    one, two = Authenticator(secret_of(first)), Authenticator(secret_of(second))
    assert one.secret != two.secret
    assert secret_of(reload(first)) == one.secret
    assert secret_of(reload(second)) == two.secret
    crossed = second_step(first.test_app, first, two.code())
    assert crossed.status_int == 401
    assert stored_secret(provider, alice) is None
    shown = second_step(second.test_app, second, two.code())
    assert shown.status_int == 200 and len(recovery_codes_of(shown)) == 10
    assert stored_secret(provider, alice) == two.secret
    done = second_step(second.test_app, shown, "")  # Continue
    assert done.status_int == 303, done.text[:500]


def test_two_account_pages_setting_up_at_once_each_keep_their_own_secret(
    provider: Provider, alice: Account
) -> None:
    """MFA-13 on the account pages: a confirm with the other browser's secret's code fails;
    once one is on, the other's setup ends (nothing replaces a confirmed app)."""
    first, second = (account_pages.browser(provider, alice) for _ in range(2))
    one = Authenticator(secret_of(account_setup(first)))
    two = Authenticator(secret_of(account_setup(second)))
    assert one.secret != two.secret
    crossed = account_confirm(first, two.code())
    assert crossed.status_int == 400 and secret_of(crossed) == one.secret
    assert stored_secret(provider, alice) is None
    assert account_confirm(first, one.code()).status_int == 200
    late = account_confirm(second, two.code())
    assert late.status_int == 400 and "Start the setup again." in late.text
    assert stored_secret(provider, alice) == one.secret
    # and a confirmed setup is not confirmed twice
    assert account_confirm(first, one.code()).status_int == 400


def test_two_confirmations_at_the_same_instant_turn_on_one_app(
    provider: Provider, alice: Account
) -> None:
    """MFA-13 in storage: first codes of two secrets confirmed at the same instant (two
    browsers), on every backend: one app is on, the other confirmation says no."""
    record = provider.storage.users.by_email(alice.email)
    assert record is not None
    factors = provider.storage.factors
    with racing(provider, 2) as racer:
        for round_ in range(10):
            step = 10**9 + round_
            secrets = [f"SECRET{round_}A" + "A" * 24, f"SECRET{round_}B" + "B" * 24]
            won = racer.run(
                [lambda s=s, t=step: factors.add_totp(record.id, s, t) for s in secrets]
            )
            assert sorted(won) == [False, True], round_
            stored = factors.totp(record.id)
            assert stored is not None and stored.secret == secrets[won.index(True)]
            assert stored.last_step == step  # the first code is spent
            assert factors.remove_totp(record.id)


def test_setting_up_an_app_next_to_a_passkey_needs_the_password_or_a_code(
    provider: Provider, alice: Account
) -> None:
    """MFA-14: a browser left signed in cannot add an authenticator app (a second factor
    its holder controls) to an account that has a passkey: the form asks for the
    password (or a code); without it or with a wrong one, no secret is made."""
    app = account_pages.browser(provider, alice)
    assert (
        add(
            app, authenticator_for(app), "Phone", passwordless=False, proof=alice.password
        ).status_int
        == 303
    )
    page = app.get("/account/security")
    assert 'id="proof-setup"' in page.text
    for fields in ({}, {"proof": "not the password"}, {"proof": "123456"}):
        refused = account_setup(app, **fields)
        assert refused.status_int == 400, (fields, refused.status)
        assert "<svg" not in refused.text and WRONG_PROOF in refused.text
        assert 'id="setup-proof-error"' in refused.text
        assert account_confirm(app, "123456").status_int == 400  # nothing to confirm
    proved = account_setup(app, proof=alice.password)
    assert proved.status_int == 200 and "<svg" in proved.text
    device = Authenticator(secret_of(proved))
    assert account_confirm(app, device.code()).status_int == 200
    assert stored_secret(provider, alice) == device.secret


def test_without_a_factor_the_setup_needs_no_proof(provider: Provider, alice: Account) -> None:
    """MFA-14: the first factor is set up from a signed-in session alone (nothing to prove
    it with yet)."""
    app = account_pages.browser(provider, alice)
    assert 'id="proof-setup"' not in app.get("/account/security").text
    assert "<svg" in account_setup(app).text


def suspend_in_database(provider: Provider, user: Account) -> None:
    """Set the status the way nothing else notices (no session ended): only the second
    step's own check stands between the half-done sign-in and a session."""
    p = provider.storage.database.param
    provider.storage.database.execute_sql(
        f"UPDATE oidc_user SET status = 'suspended' WHERE email = {p}", (user.email,)
    )


@pytest.mark.parametrize("through", ["api", "database"])
def test_a_code_after_a_suspension_does_not_sign_in(
    provider: Provider, app: webtest.TestApp, alice: Account, through: str
) -> None:
    """MFA-15: the password was right while the account was active; it is suspended
    (through the management API, or in the database, which ends no session) before the
    code: the code signs nobody in, the page says the sign-in expired."""
    owner = account_pages.browser(provider, alice)
    device = Authenticator(secret_of(account_setup(owner)))
    assert account_confirm(owner, device.code()).status_int == 200
    browser = new_app(provider)
    page = account_pages.sign_in(browser, alice.email, alice.password)
    second_factor_page(page, "/account/login/second-factor")
    if through == "api":
        set_status(app, provider, alice, "suspended")
    else:
        suspend_in_database(provider, alice)
    late = second_step(browser, page, device.code())
    assert late.status_int == 400 and EXPIRED in late.text
    assert browser.get("/account/").status_int == 303


def test_an_enrolment_after_a_suspension_does_not_sign_in(
    provider: Provider, bank: RP, alice: Account
) -> None:
    """MFA-15 within an enrolment: the first code of the new app, typed after the
    suspension, turns nothing on and signs nobody in."""
    page = bank_enrolment(provider, bank, alice)
    device = Authenticator(secret_of(page))
    suspend_in_database(provider, alice)
    late = second_step(page.test_app, page, device.code())
    assert late.status_int == 400 and EXPIRED in late.text
    assert stored_secret(provider, alice) is None
    assert "Location" not in late.headers
