"""Asking for a reset link takes the same time whether the address has an account or
not (the message is composed and sent in the background), like T-24 for sign-in."""

from __future__ import annotations

import pytest

from oidc_core import Settings
from oidc_core.storage import Storage
from tests.support.account_links import FORM, mail_app, sent
from tests.support.flow import Account, hidden
from tests.support.smtp import Mailbox
from tests.support.timing import fastest_of

pytestmark = pytest.mark.mounts("one")

RUNS = 15
BOUND = 0.005  # seconds between the fastest answers of the two kinds


def test_an_address_with_an_account_is_not_told_by_the_time_of_the_answer(
    settings: Settings, storage: Storage, mailbox: Mailbox, alice: Account
) -> None:
    many = {"login_pair_lock_threshold": 1000, "login_ip_lock_threshold": 1000}
    app = mail_app(settings, storage, mailbox, **many)
    token = hidden(app.get("/account/forgot-password"), "csrf_token")

    def ask(email: str) -> int:
        fields = {"email": email, "csrf_token": token}
        return int(app.post("/account/forgot-password", fields, content_type=FORM).status_int)

    for _ in range(3):  # warm both paths
        ask(alice.email), ask("nobody@example.com")
    known, status = fastest_of(RUNS, lambda: ask(alice.email))
    unknown, other = fastest_of(RUNS, lambda: ask("nobody@example.com"))
    assert status == other == 303
    assert abs(known - unknown) < BOUND, (known, unknown)
    sent(app)
    assert len(mailbox.messages) == RUNS + 3
