"""Helpers for the passkey tests: add a passkey on the account pages and sign in with one,
each step through HTTP as the pages' script does it, the browser's part played by
:class:`~tests.support.authenticator.SoftAuthenticator`.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

import webtest

from tests.support.account_pages import post
from tests.support.authenticator import SoftAuthenticator
from tests.support.flow import hidden, issuer_of

FORM = "application/x-www-form-urlencoded"


def authenticator_for(app: webtest.TestApp, **kwargs: Any) -> SoftAuthenticator:
    """A new authenticator for the provider ``app`` talks to (its issuer's origin)."""
    parts = urlsplit(issuer_of(app))
    return SoftAuthenticator(f"{parts.scheme}://{parts.netloc}", parts.hostname or "", **kwargs)


def creation_options(
    app: webtest.TestApp, passwordless: bool = True, token: str | None = ""
) -> webtest.TestResponse:
    fields = {"passwordless": "on"} if passwordless else {}
    return post(app, "/account/passkeys/options", fields, token=token)


def add(
    app: webtest.TestApp,
    key: SoftAuthenticator,
    name: str = "Laptop",
    passwordless: bool = True,
    *,
    proof: str | None,
    **lies: Any,
) -> webtest.TestResponse:
    """Add ``key`` as a passkey of the account signed in on ``app``: options, then the form
    with ``proof`` (the password or a code; None leaves the field out)."""
    options = creation_options(app, passwordless)
    assert options.status_int == 200, options.text[:300]
    credential = key.create(options.json, **lies)
    fields = {"name": name, "credential": credential}
    if proof is not None:
        fields["proof"] = proof
    return post(app, "/account/passkeys/add", fields)


def remove(app: webtest.TestApp, passkey_id: int, proof: str | None) -> webtest.TestResponse:
    """Remove the passkey ``passkey_id`` with ``proof`` (None leaves the field out)."""
    fields = {} if proof is None else {"proof": proof}
    return post(app, f"/account/passkeys/{passkey_id}/remove", fields)


def data_attribute(page: webtest.TestResponse, name: str) -> str:
    match = re.search(rf'data-{name}="([^"]*)"', page.text)
    assert match, f"no data-{name} in the page"
    return html.unescape(match.group(1))


def request_options(app: webtest.TestApp, page: webtest.TestResponse) -> webtest.TestResponse:
    """What the sign-in page's script fetches: the assertion options."""
    return app.post(
        data_attribute(page, "options"),
        {"csrf_token": data_attribute(page, "csrf")},
        content_type=FORM,
        expect_errors=True,
    )


def sign_in_at(
    app: webtest.TestApp, page: webtest.TestResponse, key: SoftAuthenticator, **lies: Any
) -> webtest.TestResponse:
    """Sign in with ``key`` from a sign-in ``page`` (login page or the account pages')."""
    options = request_options(app, page)
    assert options.status_int == 200, options.text[:300]
    return post_assertion(app, page, key.get(options.json, **lies))


def post_assertion(
    app: webtest.TestApp, page: webtest.TestResponse, assertion: str
) -> webtest.TestResponse:
    fields = {"csrf_token": hidden(page, "csrf_token"), "passkey": assertion}
    if 'name="interaction"' in page.text:
        fields["interaction"] = hidden(page, "interaction")
    action = re.search(r'id="passkey-sign-in"', page.text)
    assert action, "the page offers no passkey sign-in"
    path = "/login" if "interaction" in fields else "/account/login"
    return app.post(path, fields, content_type=FORM, expect_errors=True)


# -- a passkey as the second step of a sign-in ---------------------------------------------

SECOND_FACTOR_FORM = re.compile(r'<form [^>]*id="passkey-second-factor".*?</form>', re.S)


def second_factor_options(
    app: webtest.TestApp, page: webtest.TestResponse, **fields: str
) -> webtest.TestResponse:
    """What the second-factor page's script fetches: the options for the user's keys."""
    sent = {"csrf_token": data_attribute(page, "csrf"), "second_factor": "1", **fields}
    return app.post(data_attribute(page, "options"), sent, content_type=FORM, expect_errors=True)


def post_second_factor(
    app: webtest.TestApp, page: webtest.TestResponse, assertion: str, **fields: str
) -> webtest.TestResponse:
    """Post ``assertion`` with the second-factor page's passkey form (its action, hidden
    fields and token; ``fields`` replace them)."""
    form = SECOND_FACTOR_FORM.search(page.text)
    assert form, "the page offers no passkey as second factor"
    action = re.search(r'action="([^"]+)"', form.group(0))
    assert action
    sent = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    sent = {name: html.unescape(value) for name, value in sent.items()}
    sent.update(passkey=assertion, **fields)
    return app.post(html.unescape(action.group(1)), sent, content_type=FORM, expect_errors=True)


def second_factor_with(
    app: webtest.TestApp, page: webtest.TestResponse, key: SoftAuthenticator, **lies: Any
) -> webtest.TestResponse:
    """Finish the second step on ``page`` with ``key``: options, then the form."""
    options = second_factor_options(app, page)
    assert options.status_int == 200, options.text[:300]
    return post_second_factor(app, page, key.get(options.json, **lies))
