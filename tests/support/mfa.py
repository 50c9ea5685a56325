"""Helpers for the second-factor tests: an authenticator app (pyotp, as a phone would
run it), enrolling it through the account pages, and the second step of a sign-in."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyotp
import webtest

from oidc_core import Provider
from tests.support.account_pages import post
from tests.support.flow import hidden

STEP = 30  # seconds (RFC 6238 default)
MARGIN = 5  # seconds a code may take to reach the provider's check, on a busy machine


@dataclass
class Authenticator:
    """An authenticator app holding ``secret``: each code it gives is of a later time step
    than the last (a real app shows the current one; the provider takes each step once)."""

    secret: str
    used: int = -1
    recovery_codes: list[str] = field(default_factory=list)

    def code(self) -> str:
        """A code the provider must accept now: of the earliest step not used yet, within
        one step of the clock (waits for the next step if all three are used).

        The previous step's code is taken only early in a step: the provider checks it a
        moment later, and once the clock has moved on that code is two steps old (a code
        of the current or the next step stays acceptable across one boundary)."""
        clock = time.time()
        now = int(clock) // STEP
        earliest = now - 1 if clock - now * STEP < STEP - MARGIN else now
        step = max(self.used + 1, earliest)
        if step > now + 1:  # the window is used up: wait for the clock
            time.sleep((step - 1) * STEP - time.time() + 0.1)
        self.used = step
        return self.at(step)

    def at(self, step: int) -> str:
        return pyotp.TOTP(self.secret).generate_otp(step)

    def now_step(self) -> int:
        return int(time.time()) // STEP

    def wrong(self, seed: int = 0) -> str:
        """A six-digit code that is none of the codes the provider could accept now."""
        now = self.now_step()
        valid = {self.at(step) for step in range(now - 2, now + 3)}
        return next(c for n in range(seed, seed + 10) if (c := f"{n:06d}") not in valid)


def secret_of(page: webtest.TestResponse) -> str:
    """The secret an enrolment page shows in text (grouped by four)."""
    match = re.search(r'<code class="secret" id="totp-secret">([^<]+)</code>', page.text)
    assert match, page.text[:2000]
    return match.group(1).replace(" ", "")


def recovery_codes_of(page: webtest.TestResponse) -> list[str]:
    block = re.search(r'<ol class="recovery-codes" id="recovery-codes">(.*?)</ol>', page.text, re.S)
    assert block, page.text[:2000]
    return [html.unescape(c) for c in re.findall(r"<code>([^<]+)</code>", block.group(1))]


def enrol(app: webtest.TestApp) -> Authenticator:
    """Set up an authenticator app on the account pages of a signed-in browser."""
    page = post(
        app, "/account/security/totp", token=hidden(app.get("/account/security"), "csrf_token")
    )
    assert page.status_int == 200, page.text[:1000]
    assert "<svg" in page.text
    device = Authenticator(secret_of(page))
    done = post(
        app,
        "/account/security/totp/confirm",
        {"code": device.code()},
        token=hidden(page, "csrf_token"),
    )
    assert done.status_int == 200, done.text[:1000]
    device.recovery_codes = recovery_codes_of(done)
    assert len(device.recovery_codes) == 10
    return device


def second_step(
    app: webtest.TestApp, page: webtest.TestResponse, code: str, **extra: str
) -> webtest.TestResponse:
    """Post ``code`` on a second-factor page (its first form's action, hidden fields and
    token; a passkey's form may follow it)."""
    action = action_of(page)
    form = page.text.split("</form>", 1)[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.update(code=code, **extra)
    return app.post(action, fields, expect_errors=True)


def action_of(page: webtest.TestResponse) -> str:
    """Where the page's first form posts (an absolute URL)."""
    match = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert match, page.text[:2000]
    return html.unescape(match.group(1))


def second_factor_page(response: webtest.TestResponse, path: str) -> webtest.TestResponse:
    """``response`` (to a right password) is the second-factor page posting to ``path``
    (``/login/second-factor``, ``/account/login/second-factor``, ...), nobody signed in."""
    assert response.status_int == 200, (response.status, response.text[:500])
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert urlsplit(action_of(response)).path.endswith(path), action_of(response)
    return response


def session_amr(provider: Provider, app: webtest.TestApp) -> tuple[str, ...] | None:
    """How the session of browser ``app`` was signed in (None: it is not)."""
    key = app.cookies.get(provider.settings.session_cookie_name, "")
    session = provider.storage.sessions.by_key(key) if key else None
    return session.amr if session and session.user_id else None
