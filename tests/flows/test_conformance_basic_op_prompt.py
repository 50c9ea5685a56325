"""``prompt`` and ``max_age`` (T-21) as the conformance suite's Basic OP plan checks them."""

from __future__ import annotations

import time
from typing import Any

from oidc_core import Provider
from tests.support.conformance_basic_op import (
    STATE,
    asks_to_log_in,
    code_rows,
    id_token_of,
    redirect_error,
    straight_back,
)
from tests.support.flow import Flow, query_of


def authenticated_earlier(provider: Provider, seconds: int) -> None:
    """Move every session's authentication ``seconds`` into the past (instead of sleeping)."""
    provider.storage.database.execute_sql(
        f"UPDATE oidc_browser_session SET auth_time = auth_time - {int(seconds)}"
    )


def logged_in_earlier(flow: Flow, provider: Provider, seconds: int) -> dict[str, Any]:
    """Log in, as if ``seconds`` ago; the ID token of a (silent) authorization since."""
    flow.authorize()
    authenticated_earlier(provider, seconds)
    token = id_token_of(flow, straight_back(flow))
    assert token["auth_time"] <= time.time() - seconds
    return token


# -- prompt -------------------------------------------------------------------------------------


def test_oidcc_prompt_login(flow: Flow, provider: Provider) -> None:
    first = logged_in_earlier(flow, provider, 5)
    page = asks_to_log_in(flow, prompt="login")
    callback = query_of(flow.login(page).headers["Location"])
    second = id_token_of(flow, callback)
    assert second["sub"] == first["sub"]
    assert second["auth_time"] > first["auth_time"]


def test_oidcc_prompt_none_not_logged_in(flow: Flow, provider: Provider) -> None:
    redirect_error(flow, flow.start(prompt="none", state=STATE), "login_required")
    assert code_rows(provider) == 0


def test_oidcc_prompt_none_logged_in(flow: Flow) -> None:
    first = id_token_of(flow, flow.authorize())
    second = id_token_of(flow, straight_back(flow, prompt="none"))
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_prompt_none_with_another_value_is_invalid_request(flow: Flow) -> None:
    flow.authorize()
    for prompt in ("none login", "consent none", "none select_account"):
        redirect_error(flow, flow.start(prompt=prompt, state=STATE), "invalid_request")


def test_prompt_select_account_shows_the_login_page(flow: Flow) -> None:
    flow.authorize()
    asks_to_log_in(flow, prompt="select_account")


def test_prompt_consent_asks_again_although_consent_is_remembered(flow: Flow) -> None:
    flow.authorize()
    response = flow.start(prompt="consent")
    assert response.status_int == 303
    assert response.headers["Location"].startswith(flow.issuer + "/consent?interaction=")


# -- max_age ------------------------------------------------------------------------------------


def test_oidcc_max_age_1(flow: Flow, provider: Provider) -> None:
    first = logged_in_earlier(flow, provider, 2)
    page = asks_to_log_in(flow, max_age="1")
    second = id_token_of(flow, query_of(flow.login(page).headers["Location"]))
    assert second["auth_time"] > first["auth_time"]
    assert second["sub"] == first["sub"]


def test_oidcc_max_age_10000(flow: Flow) -> None:
    first = id_token_of(flow, flow.authorize(max_age="15000"))
    assert "auth_time" in first
    second = id_token_of(flow, straight_back(flow, max_age="10000"))
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_max_age_0_always_asks_to_log_in(flow: Flow) -> None:
    flow.authorize()
    asks_to_log_in(flow, max_age="0")


def test_empty_max_age_is_an_omitted_one(flow: Flow) -> None:
    flow.authorize()
    straight_back(flow, max_age="")


def test_max_age_with_prompt_none_and_an_old_login_is_login_required(
    flow: Flow, provider: Provider
) -> None:
    flow.authorize()
    authenticated_earlier(provider, 120)
    redirect_error(flow, flow.start(max_age="60", prompt="none", state=STATE), "login_required")
