"""Passkeys on the account pages (docs/account.md): adding several, each under a name,
listing, renaming and removing them; what the provider stores; every refusal (another
origin or RP ID, a replayed challenge, a credential registered already, CSRF) changes
nothing.  The browser's part is played by a software authenticator.
"""

from __future__ import annotations

import pytest
import webtest

from oidc_core import Provider
from tests.support.account_pages import browser, post
from tests.support.authenticator import b64url
from tests.support.flow import Account
from tests.support.passkeys import add, authenticator_for, creation_options, remove

pytestmark = pytest.mark.mounts("one")


@pytest.fixture
def alice_browser(provider: Provider, alice: Account) -> webtest.TestApp:
    return browser(provider, alice)


def _stored(provider: Provider, alice: Account) -> list[tuple[str, bool]]:
    user = provider.storage.users.by_subject(alice.subject)
    assert user is not None
    return [(p.name, p.passwordless) for p in provider.storage.passkeys.of_user(user.id)]


def test_a_passkey_is_added_under_its_name_and_listed(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """PK-1: the options name the issuer's host as RP ID, ask for a discoverable
    credential verifying the user; the credential is stored with its key and transports."""
    options = creation_options(alice_browser).json
    assert options["rp"]["id"] == "op.example"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["id"] == b64url(alice.subject.encode())
    assert options["user"]["name"] == alice.email
    key = authenticator_for(alice_browser)
    response = add(alice_browser, key, "Work laptop", proof=alice.password)
    assert response.status_int == 303, response.text[:500]
    assert response.headers["Location"].endswith("/account/passkeys?notice=added")
    page = alice_browser.get(response.headers["Location"])
    assert "Work laptop" in page.text and "The passkey was added." in page.text
    user = provider.storage.users.by_subject(alice.subject)
    assert user is not None
    (stored,) = provider.storage.passkeys.of_user(user.id)
    assert stored.credential_id == b64url(key.credential_id)
    assert stored.passwordless and stored.transports == ("internal", "hybrid")
    assert stored.aaguid == "6d44ba9b-f6ec-2e49-b930-0c8fe920cb73"


def test_several_passkeys_and_the_existing_ones_are_excluded(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    first, second = authenticator_for(alice_browser), authenticator_for(alice_browser)
    assert add(alice_browser, first, "Phone", proof=alice.password).status_int == 303
    second_added = add(alice_browser, second, "Key", passwordless=False, proof=alice.password)
    assert second_added.status_int == 303
    assert _stored(provider, alice) == [("Phone", True), ("Key", False)]
    options = creation_options(alice_browser, passwordless=False).json
    excluded = {c["id"] for c in options["excludeCredentials"]}
    assert excluded == {b64url(first.credential_id), b64url(second.credential_id)}
    assert options["authenticatorSelection"]["residentKey"] == "discouraged"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"


def test_rename_and_remove(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    add(alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password)
    user = provider.storage.users.by_subject(alice.subject)
    assert user is not None
    (passkey,) = provider.storage.passkeys.of_user(user.id)
    renamed = post(alice_browser, f"/account/passkeys/{passkey.id}/rename", {"name": "Old phone"})
    assert renamed.status_int == 303
    assert _stored(provider, alice) == [("Old phone", True)]
    empty = post(alice_browser, f"/account/passkeys/{passkey.id}/rename", {"name": " "})
    assert empty.status_int == 400 and "Give the passkey a name" in empty.text
    removed = remove(alice_browser, passkey.id, alice.password)
    assert removed.status_int == 303
    assert _stored(provider, alice) == []
    again = remove(alice_browser, passkey.id, alice.password)
    assert again.status_int == 404 and "Traceback" not in again.text


def test_another_users_passkey_cannot_be_renamed_or_removed(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, bob: Account
) -> None:
    """PK-2: the passkey ids of another account are not found."""
    add(alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password)
    user = provider.storage.users.by_subject(alice.subject)
    assert user is not None
    (passkey,) = provider.storage.passkeys.of_user(user.id)
    bob_browser = browser(provider, bob)
    for action, fields in (("rename", {"name": "Mine"}), ("remove", {"proof": bob.password})):
        response = post(bob_browser, f"/account/passkeys/{passkey.id}/{action}", fields)
        assert response.status_int == 404, action
    assert _stored(provider, alice) == [("Phone", True)]


@pytest.mark.parametrize(
    "lie",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://op.example"},
        {"rp_id": "evil.example"},
    ],
    ids=["other-origin", "other-scheme", "other-rp-id"],
)
def test_a_credential_made_for_another_site_is_refused(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, lie: dict[str, str]
) -> None:
    """PK-3: another origin or RP ID in the credential: 400, nothing stored."""
    response = add(
        alice_browser, authenticator_for(alice_browser), "Phone", **lie, proof=alice.password
    )
    assert response.status_int == 400
    assert "could not be accepted" in response.text
    assert _stored(provider, alice) == []


def test_a_challenge_answers_once(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    """PK-4: the registration challenge is single use; a credential registered already is
    refused (to this account or another)."""
    key = authenticator_for(alice_browser)
    options = creation_options(alice_browser).json
    credential = key.create(options)
    fields = {"name": "Phone", "credential": credential, "proof": alice.password}
    assert post(alice_browser, "/account/passkeys/add", fields).status_int == 303
    replayed = post(alice_browser, "/account/passkeys/add", fields)
    assert replayed.status_int == 400
    creation_options(alice_browser)  # a new challenge, but the same credential
    assert post(alice_browser, "/account/passkeys/add", fields).status_int == 400
    assert _stored(provider, alice) == [("Phone", True)]


def test_a_registration_needs_a_challenge_from_this_session(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    other = browser(provider, alice)
    options = creation_options(other).json
    credential = authenticator_for(alice_browser).create(options)
    fields = {"name": "X", "credential": credential, "proof": alice.password}
    response = post(alice_browser, "/account/passkeys/add", fields)
    assert response.status_int == 400
    assert _stored(provider, alice) == []


@pytest.mark.parametrize(
    "credential",
    ["", "{", "[]", '{"id": 1}', "x" * 20000, '{"id":"AA","rawId":"AA","type":"public-key"}'],
    ids=["empty", "not-json", "list", "bad-id", "too-long", "no-response"],
)
def test_bad_credentials_get_a_clear_error(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, credential: str
) -> None:
    creation_options(alice_browser)
    fields = {"name": "Phone", "credential": credential, "proof": alice.password}
    response = post(alice_browser, "/account/passkeys/add", fields)
    assert response.status_int == 400, response.status
    assert "could not be accepted" in response.text and "Traceback" not in response.text
    assert _stored(provider, alice) == []


@pytest.mark.parametrize("name", ["", "x" * 65, "a\x07b"], ids=["empty", "long", "control"])
def test_a_name_is_required_and_bounded(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, name: str
) -> None:
    response = add(alice_browser, authenticator_for(alice_browser), name, proof=alice.password)
    assert response.status_int == 400
    assert _stored(provider, alice) == []


@pytest.mark.parametrize("token", [None, "forged"], ids=["none", "wrong"])
def test_every_passkey_form_needs_the_csrf_token(
    alice_browser: webtest.TestApp, provider: Provider, alice: Account, token: str | None
) -> None:
    """PK-5: options, add, rename and remove without this session's token: 403, nothing
    changed."""
    add(alice_browser, authenticator_for(alice_browser), "Phone", proof=alice.password)
    user = provider.storage.users.by_subject(alice.subject)
    assert user is not None
    (passkey,) = provider.storage.passkeys.of_user(user.id)
    proof = alice.password
    assert creation_options(alice_browser, token=token).status_int == 403
    options = creation_options(alice_browser).json
    credential = authenticator_for(alice_browser).create(options)
    for path, fields in (
        ("/account/passkeys/add", {"name": "Other", "credential": credential, "proof": proof}),
        (f"/account/passkeys/{passkey.id}/rename", {"name": "Renamed"}),
        (f"/account/passkeys/{passkey.id}/remove", {"proof": proof}),
    ):
        response = post(alice_browser, path, fields, token=token)
        assert response.status_int == 403, path
    assert _stored(provider, alice) == [("Phone", True)]


def test_the_page_offers_the_script_under_its_csp(alice_browser: webtest.TestApp) -> None:
    page = alice_browser.get("/account/passkeys")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp and "<script>" not in page.text
    script = alice_browser.get("/static/passkeys.js")
    assert script.content_type == "text/javascript"
    assert "navigator.credentials.create" in script.text
