"""Adding or removing a passkey needs the password or a code (docs/account.md): a session
left open is not enough to give an attacker a lasting way in (a passkey survives a password
reset) or to take the user's keys away.  Wrong proofs are refused, change nothing and are
counted on the sign-in's brute-force counters; renaming needs no proof.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from tests.support.account_pages import browser, post
from tests.support.flow import Account
from tests.support.mfa import enrol
from tests.support.passkeys import add, authenticator_for, remove

pytestmark = pytest.mark.mounts("one")

WRONG_PROOF = "This is neither your password nor a valid code."


@pytest.fixture
def alice_browser(provider: Provider, alice: Account) -> webtest.TestApp:
    return browser(provider, alice)


def _names(provider: Provider, user: Account) -> list[str]:
    found = provider.storage.users.by_subject(user.subject)
    assert found is not None
    return [p.name for p in provider.storage.passkeys.of_user(found.id)]


def _only_id(provider: Provider, user: Account) -> int:
    found = provider.storage.users.by_subject(user.subject)
    assert found is not None
    (passkey,) = provider.storage.passkeys.of_user(found.id)
    return passkey.id


@pytest.mark.parametrize(
    "proof", [None, "", "not her password", "bob's password"], ids=["none", "empty", "wrong", "bob"]
)
def test_adding_a_passkey_needs_the_password_or_a_code(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, bob: Account, proof: str
) -> None:
    """PK-21: without proof, or with a wrong one (another user's password too), the add
    form is refused with the page again (400) and no passkey is stored."""
    if proof == "bob's password":
        proof = bob.password
    response = add(alice_browser, authenticator_for(alice_browser), "Thief", proof=proof)
    assert response.status_int == 400, response.status
    assert WRONG_PROOF in response.text and "Traceback" not in response.text
    assert 'id="passkey-register"' in response.text
    assert _names(provider, alice) == []


def test_removing_a_passkey_needs_the_password_or_a_code(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """PK-21: removing without proof or with a wrong one: 400, the passkey stays."""
    assert (
        add(
            alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password
        ).status_int
        == 303
    )
    passkey_id = _only_id(provider, alice)
    for proof in (None, "", "guess"):
        refused = remove(alice_browser, passkey_id, proof)
        assert refused.status_int == 400, proof
        assert WRONG_PROOF in refused.text
        assert _names(provider, alice) == ["Phone"]
    removed = remove(alice_browser, passkey_id, alice.password)
    assert removed.status_int == 303
    assert removed.headers["Location"].endswith("/account/passkeys?notice=removed")
    assert _names(provider, alice) == []


def test_a_code_proves_it_too(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """PK-21: a current code of the authenticator app adds a passkey, a recovery code
    removes it (and is used up)."""
    device = enrol(alice_browser)
    key = authenticator_for(alice_browser)
    assert add(alice_browser, key, "Phone", proof=device.code()).status_int == 303
    passkey_id = _only_id(provider, alice)
    code = device.recovery_codes[0]
    assert remove(alice_browser, passkey_id, code).status_int == 303
    assert _names(provider, alice) == []
    again = add(alice_browser, authenticator_for(alice_browser), "Other", proof=code)
    assert again.status_int == 400 and _names(provider, alice) == []


def test_a_code_is_not_spent_on_a_name_refused(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """The name is checked before the proof: a form refused for its name leaves the code
    unused, so the same code adds the passkey once the name is given."""
    device = enrol(alice_browser)
    code = device.code()
    unnamed = add(alice_browser, authenticator_for(alice_browser), " ", proof=code)
    assert unnamed.status_int == 400 and "Give the passkey a name" in unnamed.text
    named = add(alice_browser, authenticator_for(alice_browser), "Phone", proof=code)
    assert named.status_int == 303 and _names(provider, alice) == ["Phone"]


@pytest.mark.parametrize("action", ["add", "remove"])
def test_wrong_proofs_are_counted_until_locked(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, action: str
) -> None:
    """PK-21: wrong proofs count like wrong passwords: after the pair's threshold the
    forms answer 429 with Retry-After, even to the right password, and change nothing."""
    assert (
        add(
            alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password
        ).status_int
        == 303
    )
    passkey_id = _only_id(provider, alice)

    def attempt(proof: str) -> webtest.TestResponse:
        if action == "add":
            return add(alice_browser, authenticator_for(alice_browser), "Thief", proof=proof)
        return remove(alice_browser, passkey_id, proof)

    statuses = [
        attempt(f"guess {n}").status_int
        for n in range(provider.settings.login_pair_lock_threshold + 1)
    ]
    assert statuses[0] == 400 and statuses[-1] == 429, statuses
    locked = attempt(alice.password)
    assert locked.status_int == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many attempts" in locked.text
    assert _names(provider, alice) == ["Phone"]


def test_renaming_needs_no_proof(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    assert (
        add(
            alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password
        ).status_int
        == 303
    )
    passkey_id = _only_id(provider, alice)
    renamed = post(alice_browser, f"/account/passkeys/{passkey_id}/rename", {"name": "Old phone"})
    assert renamed.status_int == 303 and _names(provider, alice) == ["Old phone"]


def test_the_page_asks_for_the_proof_in_each_form(
    alice_browser: webtest.TestApp, alice: Account
) -> None:
    """The add form and each passkey's remove form carry a labelled ``proof`` field."""
    add(alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password)
    page = alice_browser.get("/account/passkeys")
    register = page.html.find("form", id="passkey-register")
    assert register is not None and register.find("input", attrs={"name": "proof"}) is not None
    removal = [f for f in page.html.find_all("form") if f["action"].endswith("/remove")]
    assert len(removal) == 1
    field = removal[0].find("input", attrs={"name": "proof"})
    assert field is not None and field["type"] == "password"
    for form in (register, removal[0]):
        field = form.find("input", attrs={"name": "proof"})
        label = page.html.find("label", attrs={"for": field["id"]})
        assert label is not None and label.get_text() == "Your password, or a code"
