"""Helpers for the tests of the links sent by email (docs/account.md): a provider that
mails to the test SMTP server, asking for a reset link, and using a link's form."""

from __future__ import annotations

from typing import Any

import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.support.account_pages import provider_with
from tests.support.flow import hidden
from tests.support.smtp import Mailbox, link_in, mail_settings

FORM = "application/x-www-form-urlencoded"


def mail_app(
    settings: Settings, storage: Storage, mailbox: Mailbox, **changes: Any
) -> webtest.TestApp:
    """A browser on a provider (at https://op.example) that mails to ``mailbox``."""
    return provider_with(settings, storage, **{**mail_settings(mailbox), **changes})


def another_browser(app: webtest.TestApp, **environ: str) -> webtest.TestApp:
    """A new browser (no cookies) on the same provider."""
    return webtest.TestApp(app.app, extra_environ={**app.extra_environ, **environ})


def provider_of(app: webtest.TestApp) -> Provider:
    provider = app.app
    assert isinstance(provider, Provider)
    return provider


def sent(app: webtest.TestApp) -> None:
    """Wait until the provider's sending thread has nothing left to do."""
    assert provider_of(app).mail.drain(10)


def ask_reset(
    app: webtest.TestApp, email: str, token: str | None = "", headers: dict[str, str] | None = None
) -> webtest.TestResponse:
    """POST the "Forgot password?" form ("" takes its CSRF token, None leaves it out)."""
    fields = {"email": email}
    if token == "":
        token = hidden(app.get("/account/forgot-password", headers=headers), "csrf_token")
    if token is not None:
        fields["csrf_token"] = token
    return app.post(
        "/account/forgot-password", fields, headers=headers, content_type=FORM, expect_errors=True
    )


def reset_link(app: webtest.TestApp, mailbox: Mailbox, email: str, nth: int = 1) -> str:
    """Ask for a reset link for ``email``; the link of the ``nth`` message received."""
    response = ask_reset(app, email)
    assert response.status_int == 303, response.text[:500]
    return link_in(mailbox.wait(nth)[nth - 1])


def use_link(
    app: webtest.TestApp, link: str, fields: dict[str, str], with_csrf: bool = True
) -> webtest.TestResponse:
    """Open ``link`` (a GET: the form), then post its form with ``fields``."""
    page = app.get(link, expect_errors=True)
    assert page.status_int == 200, page.text[:500]
    data = {"token": hidden(page, "token"), **fields}
    if with_csrf:
        data["csrf_token"] = hidden(page, "csrf_token")
    path = link.split("?", 1)[0]
    return app.post(path, data, content_type=FORM, expect_errors=True)


def new_password(
    app: webtest.TestApp, link: str, password: str, again: str | None = None
) -> webtest.TestResponse:
    fields = {"new_password": password, "new_password_again": password if again is None else again}
    return use_link(app, link, fields)
