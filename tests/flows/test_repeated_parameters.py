"""A parameter that decides what a form may do is sent once (SECURITY-CHECKLIST T-22, T-23).

``csrf_token``, ``decision`` and ``interaction`` sent twice are refused with a 400 page
that says which one is repeated, and nothing changes, whichever copy is the right one.
Before, /login and /consent took the last copy and the account pages and the console the
first: a filter or proxy reading the other copy would judge a request that the provider
then answered differently (issue 14 item 5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import webtest

from oidc_core.storage import Storage
from tests.conftest import new_app
from tests.flows.test_unicode_inputs import Browsers, browsers
from tests.support import account_pages
from tests.support import admin_console as console
from tests.support.flow import Flow, hidden
from tests.support.snapshot import database

__all__ = ["browsers"]  # the fixture

BOGUS = "0" * 64


@dataclass
class Form:
    """A form ready to post: the browser, where, its other fields, the repeated one."""

    app: webtest.TestApp
    path: str
    fields: list[tuple[str, str]]
    name: str
    value: str  # the right value; the other copy is wrong
    wrong: str = BOGUS


def _login(b: Browsers, name: str) -> Form:
    page = b.login_page
    fields = [
        ("interaction", hidden(page, "interaction")),
        ("csrf_token", hidden(page, "csrf_token")),
    ]
    fields += [("email", b.flow.user.email), ("password", b.flow.user.password)]
    value = dict(fields)[name]
    return Form(b.flow.app, "/login", [f for f in fields if f[0] != name], name, value)


def _consent_page(b: Browsers) -> tuple[Flow, webtest.TestResponse]:
    flow = Flow(new_app(b.provider), b.flow.client, b.flow.user)
    login_page = flow.app.get(flow.start().headers["Location"])
    to_consent = flow.login(login_page)
    assert to_consent.status_int == 303, to_consent.text[:300]
    return flow, flow.app.get(to_consent.headers["Location"])


def _consent(b: Browsers, name: str) -> Form:
    flow, page = _consent_page(b)
    fields = [
        ("interaction", hidden(page, "interaction")),
        ("csrf_token", hidden(page, "csrf_token")),
    ]
    fields.append(("decision", "allow"))
    value = dict(fields)[name]
    wrong = "deny" if name == "decision" else BOGUS
    return Form(flow.app, "/consent", [f for f in fields if f[0] != name], name, value, wrong)


def _end_session(b: Browsers, name: str) -> Form:
    page = b.account.get("/end_session?" + urlencode({"client_id": b.flow.client.client_id}))
    assert 'name="decision"' in page.text, page.text[:300]
    fields = [("csrf_token", hidden(page, "csrf_token")), ("client_id", b.flow.client.client_id)]
    fields.append(("decision", "sign_out"))
    value = dict(fields)[name]
    wrong = "stay" if name == "decision" else BOGUS
    return Form(b.account, "/end_session", [f for f in fields if f[0] != name], name, value, wrong)


def _account(path: str, fields: list[tuple[str, str]]) -> Callable[[Browsers, str], Form]:
    def prepare(b: Browsers, name: str) -> Form:
        return Form(b.account, path, fields, name, account_pages.csrf(b.account))

    return prepare


def _account_login(b: Browsers, name: str) -> Form:
    app = new_app(b.provider)
    token = hidden(app.get("/account/login"), "csrf_token")
    fields = [("email", b.flow.user.email), ("password", b.flow.user.password)]
    return Form(app, "/account/login", fields, name, token)


def _admin(path: str, fields: list[tuple[str, str]]) -> Callable[[Browsers, str], Form]:
    def prepare(b: Browsers, name: str) -> Form:
        return Form(b.admin, path, fields, name, console.token_of(b.admin))

    return prepare


def _admin_login(b: Browsers, name: str) -> Form:
    app = new_app(b.provider)
    token = hidden(app.get("/admin/login"), "csrf_token")
    fields = [("email", console.ADMIN_EMAIL), ("password", console.ADMIN_PASSWORD)]
    return Form(app, "/admin/login", fields, name, token)


# (case, the repeated parameter): every form of ours and the parameters it acts on.
FORMS: dict[str, Callable[[Browsers, str], Form]] = {
    "login": _login,
    "consent": _consent,
    "end-session-confirmation": _end_session,
    "account-sign-in": _account_login,
    "account-profile": _account("/account/profile", [("name", "Mallory")]),
    "account-sign-out": _account("/account/logout", []),
    "admin-sign-in": _admin_login,
    "admin-new-client": _admin("/admin/clients/new", console.client_form()),
    "admin-sign-out": _admin("/admin/logout", []),
}
CASES = [
    ("login", "csrf_token"),
    ("login", "interaction"),
    ("consent", "csrf_token"),
    ("consent", "interaction"),
    ("consent", "decision"),
    ("end-session-confirmation", "csrf_token"),
    ("end-session-confirmation", "decision"),
    *[(form, "csrf_token") for form in FORMS if form.startswith(("account", "admin"))],
]


def refused_as_repeated(response: webtest.TestResponse, name: str) -> None:
    assert response.status_int == 400, (response.status, response.text[:300])
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert f"parameter &#39;{name}&#39; is repeated" in response.text


@pytest.mark.parametrize("right_copy", ["first", "last"])
@pytest.mark.parametrize(("form", "name"), CASES, ids=[f"{f}-{n}" for f, n in CASES])
def test_a_repeated_security_parameter_is_refused_and_changes_nothing(
    browsers: Browsers, storage: Storage, form: str, name: str, right_copy: str
) -> None:
    ready = FORMS[form](browsers, name)
    copies = [ready.value, ready.wrong] if right_copy == "first" else [ready.wrong, ready.value]
    body = urlencode([*ready.fields, *[(name, copy) for copy in copies]])
    before = database(storage)
    response = ready.app.post(
        ready.path, body, content_type="application/x-www-form-urlencoded", expect_errors=True
    )
    refused_as_repeated(response, name)
    assert database(storage) == before


@pytest.mark.parametrize("path", ["/login", "/consent"])
def test_a_repeated_interaction_in_the_query_is_refused(
    browsers: Browsers, storage: Storage, path: str
) -> None:
    handle = hidden(browsers.login_page, "interaction")
    before = database(storage)
    for pair in ([handle, BOGUS], [BOGUS, handle]):
        query = urlencode([("interaction", value) for value in pair])
        response = browsers.flow.app.get(f"{path}?{query}", expect_errors=True)
        refused_as_repeated(response, "interaction")
    assert database(storage) == before


def test_the_right_copy_alone_still_works(browsers: Browsers) -> None:
    """The same forms, each parameter once: accepted (the refusal is about the repeat)."""
    ready = _login(browsers, "csrf_token")
    response = ready.app.post(ready.path, [*ready.fields, (ready.name, ready.value)])
    assert response.status_int == 303
    ready = _account("/account/profile", [("name", "Alice L.")])(browsers, "csrf_token")
    response = ready.app.post(ready.path, [*ready.fields, (ready.name, ready.value)])
    assert response.status_int == 303
    assert "Your profile was saved." in response.follow().text
