"""One-time codes are used once: a TOTP code (and every older one) is refused after it
was accepted, also when two requests bring it at the same instant (SQLite, PostgreSQL);
a code of three steps ago is refused; a recovery code works once; new recovery codes
kill the old set; turning the app off needs the password or a code.
"""

from __future__ import annotations

import webtest

from oidc_core import Provider
from tests.conftest import make_user, new_app
from tests.support import account_pages
from tests.support.flow import Account, hidden
from tests.support.mfa import (
    Authenticator,
    enrol,
    recovery_codes_of,
    second_factor_page,
    second_step,
)
from tests.support.race import racing


def user_id(provider: Provider, user: Account) -> int:
    found = provider.storage.users.by_email(user.email)
    assert found is not None
    return found.id


def pending_page(provider: Provider, user: Account, address: str = "192.0.2.10") -> webtest.TestApp:
    """A new browser whose password was right: on its second-factor page."""
    app = new_app(provider)
    app.extra_environ["REMOTE_ADDR"] = address
    response = account_pages.sign_in(app, user.email, user.password)
    second_factor_page(response, "/account/login/second-factor")
    return app


def step_page(app: webtest.TestApp) -> webtest.TestResponse:
    return app.get("/account/login/second-factor")


def signed_in(response: webtest.TestResponse) -> bool:
    return response.status_int == 303 and response.headers["Location"].endswith("/account/")


def test_a_code_is_accepted_once(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    code = device.code()
    first = pending_page(provider, alice)
    assert signed_in(second_step(first, step_page(first), code))
    second = pending_page(provider, alice)
    replay = second_step(second, step_page(second), code)
    assert replay.status_int == 401
    assert "The code is not correct." in replay.text


def test_a_code_older_than_the_last_accepted_is_refused(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    now = device.now_step()
    app = pending_page(provider, alice)
    assert signed_in(second_step(app, step_page(app), device.at(now + 1)))
    other = pending_page(provider, alice)
    assert second_step(other, step_page(other), device.at(now)).status_int == 401


def test_a_code_from_three_steps_ago_is_refused(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    app = pending_page(provider, alice)
    page = step_page(app)
    for old in (3, 2):
        assert second_step(app, page, device.at(device.now_step() - old)).status_int == 401
    assert signed_in(second_step(app, page, device.code()))


def test_two_posts_of_one_code_at_the_same_instant_sign_in_once(
    provider: Provider, alice: Account
) -> None:
    """Each round: two browsers past the password post the same code together; the
    accepted step is then set back so the next round can use the code again."""
    enrol(account_pages.browser(provider, alice))
    secret = provider.storage.factors.totp(user_id(provider, alice))
    assert secret is not None
    device = Authenticator(secret.secret)
    code = device.at(device.now_step())
    p = provider.storage.database.param
    with racing(provider, 2) as racer:
        for round_ in range(8):
            browsers = [pending_page(provider, alice, f"192.0.2.{n + 20}") for n in range(2)]
            pages = [step_page(app) for app in browsers]
            provider.storage.database.execute_sql(
                f"UPDATE oidc_totp_credential SET last_step = {p}", (device.now_step() - 2,)
            )
            results = racer.run(
                [
                    lambda app=app, page=page: second_step(app, page, code)
                    for app, page in zip(browsers, pages, strict=True)
                ]
            )
            assert sorted(r.status_int for r in results) == [303, 401], round_
            assert sum(signed_in(r) for r in results) == 1


def test_the_same_step_raced_in_storage_is_accepted_once(
    provider: Provider, alice: Account
) -> None:
    enrol(account_pages.browser(provider, alice))
    uid = user_id(provider, alice)
    factors = provider.storage.factors
    with racing(provider, 4) as racer:
        for step in range(10**9, 10**9 + 25):
            assert sum(racer.same(lambda step=step: factors.advance_totp(uid, step))) == 1


def test_a_recovery_code_signs_in_once(provider: Provider, alice: Account) -> None:
    device = enrol(account_pages.browser(provider, alice))
    code = device.recovery_codes[3]
    app = pending_page(provider, alice)
    typed = code.upper().replace("-", " ")  # as people type them
    assert signed_in(second_step(app, step_page(app), typed))
    session = provider.storage.sessions.by_key(app.cookies["oidc_session"])
    assert session is not None and session.amr == ("mfa", "otp", "pwd")
    other = pending_page(provider, alice)
    assert second_step(other, step_page(other), code).status_int == 401
    assert "Recovery codes left: 9" in app.get("/account/security").text


def test_new_recovery_codes_kill_the_old_set(provider: Provider, alice: Account) -> None:
    app = account_pages.browser(provider, alice)
    device = enrol(app)
    page = app.get("/account/security")
    wrong = account_pages.post(
        app,
        "/account/security/recovery-codes",
        {"proof": "not it"},
        token=hidden(page, "csrf_token"),
    )
    assert wrong.status_int == 400
    assert "This is neither your password nor a valid code." in wrong.text
    fresh = account_pages.post(
        app,
        "/account/security/recovery-codes",
        {"proof": alice.password},
        token=hidden(page, "csrf_token"),
    )
    assert fresh.status_int == 200
    new_codes = recovery_codes_of(fresh)
    assert len(new_codes) == 10 and not set(new_codes) & set(device.recovery_codes)
    old = pending_page(provider, alice)
    assert second_step(old, step_page(old), device.recovery_codes[0]).status_int == 401
    new = pending_page(provider, alice)
    assert signed_in(second_step(new, step_page(new), new_codes[0]))


def test_turning_the_app_off_needs_the_password_or_a_code(
    provider: Provider, alice: Account
) -> None:
    app = account_pages.browser(provider, alice)
    device = enrol(app)
    token = hidden(app.get("/account/security"), "csrf_token")
    refused = account_pages.post(
        app, "/account/security/totp/remove", {"proof": "guess"}, token=token
    )
    assert refused.status_int == 400
    assert provider.storage.factors.enrolled(user_id(provider, alice)).totp
    removed = account_pages.post(
        app, "/account/security/totp/remove", {"proof": device.code()}, token=token
    )
    assert removed.status_int == 303
    assert "Two-step verification is off." in app.get(removed.headers["Location"]).text
    enrolled = provider.storage.factors.enrolled(user_id(provider, alice))
    assert not enrolled.totp and enrolled.recovery_codes == 0
    # signing in is back to the password alone
    assert (
        account_pages.sign_in(new_app(provider), alice.email, alice.password)
        .headers["Location"]
        .endswith("/account/")
    )


def test_a_password_that_looks_like_a_code_still_proves_it_is_you(provider: Provider) -> None:
    user = make_user(provider, "codelike@example.com", "abcd-efgh-ijkl-mnop")  # base32 chars
    app = account_pages.browser(provider, user)
    enrol(app)
    token = hidden(app.get("/account/security"), "csrf_token")
    fresh = account_pages.post(
        app, "/account/security/recovery-codes", {"proof": user.password}, token=token
    )
    assert fresh.status_int == 200
    assert len(recovery_codes_of(fresh)) == 10
