"""Generated credentials: their shape is part of how operators use them."""

from __future__ import annotations

import re

from oidc_core import credentials


def test_client_ids_are_letters_and_digits_so_the_cli_never_takes_one_for_an_option() -> None:
    # token_urlsafe() ids began with "-" one time in 64, and `oidc-core client update -x...`
    # then failed with a usage error.
    ids = {credentials.new_client_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{22}", client_id) for client_id in ids)
    assert {client_id[0] for client_id in ids} >= {"a", "Z", "0"}  # the whole alphabet is used


def test_subjects_are_letters_and_digits_so_the_cli_never_takes_one_for_an_option() -> None:
    # token_urlsafe() subjects began with "-" one time in 64, and `oidc-core user suspend
    # -x...` then failed with a usage error (test_cli_user_status.py failed that often).
    subjects = {credentials.new_subject() for _ in range(2000)}
    assert len(subjects) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{24}", subject) for subject in subjects)
