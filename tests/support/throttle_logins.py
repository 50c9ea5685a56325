"""Password attempts for the throttle's tests: the login page, a login, the generic
failure message and the stored failure counters.
"""

from __future__ import annotations

import webtest

from oidc_core.storage import Storage
from tests.support.flow import RP, Account, Flow, hidden

GENERIC_FAILURE = "The email address or password is not correct."


def login_page(browser: webtest.TestApp, client: RP, user: Account) -> webtest.TestResponse:
    response = Flow(browser, client, user).start()
    assert response.status_int == 303, response.status
    return browser.get(response.headers["Location"])


def log_in(
    browser: webtest.TestApp, page: webtest.TestResponse, email: str, password: str
) -> webtest.TestResponse:
    return browser.post(
        "/login",
        {
            "interaction": hidden(page, "interaction"),
            "csrf_token": hidden(page, "csrf_token"),
            "email": email,
            "password": password,
        },
        expect_errors=True,
    )


def failures(storage: Storage, key: str) -> int:
    return storage.throttle.counters([key]).get(key, (0, 0))[0]


def _creds(user: Account) -> tuple[str, str]:
    return user.email, user.password
