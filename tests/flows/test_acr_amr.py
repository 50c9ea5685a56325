"""``amr`` and ``acr`` in ID tokens, step-up by ``acr_values`` and an essential ``acr``
claim, and ``max_age=0`` (docs/protocol.md; SECURITY-CHECKLIST ACR-1..ACR-7).

ID tokens are verified with PyJWT against /jwks.  A sign-in with a second factor is made
by writing the session's ``amr`` through SQL, as the second-factor step stores it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider, authn
from oidc_core.storage import Storage
from tests.flows.test_conformance_basic_op_prompt import authenticated_earlier
from tests.support.conformance_basic_op import (
    STATE,
    asks_to_log_in,
    code_rows,
    id_token_of,
    redirect_error,
    straight_back,
)
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token
from tests.support.mfa import enrol, second_factor_page, second_step
from tests.support.tokens import offline_client, offline_flow, offline_tokens, refresh

pytestmark = pytest.mark.mounts("one")

MFA = authn.ACR_MFA
SINGLE = authn.ACR_SINGLE_FACTOR
TOTP_SIGN_IN = "mfa otp pwd"


def signed_in_with(provider: Provider, amr: str | None) -> None:
    """Every session now says it was signed in with ``amr`` (None: not recorded)."""
    database = provider.storage.database
    database.execute_sql(f"UPDATE oidc_browser_session SET amr = {database.param}", (amr,))


def essential(*values: str) -> str:
    return json.dumps({"id_token": {"acr": {"essential": True, "values": list(values)}}})


def logged_in_again(flow: Flow, page: webtest.TestResponse) -> dict[str, str]:
    response = flow.login(page)
    assert response.status_int == 303, response.text[:300]
    return query_of(response.headers["Location"])


# -- ACR-1: the ID token says how the user signed in ---------------------------------------------


def test_a_password_sign_in_is_pwd_and_single_factor(flow: Flow) -> None:
    token = id_token_of(flow, flow.authorize())
    assert token["amr"] == ["pwd"]
    assert token["acr"] == SINGLE


def test_a_sign_in_with_a_second_factor_is_mfa(flow: Flow, provider: Provider) -> None:
    flow.authorize()
    signed_in_with(provider, TOTP_SIGN_IN)
    token = id_token_of(flow, straight_back(flow))
    assert token["amr"] == ["mfa", "otp", "pwd"]
    assert token["acr"] == MFA
    # the class asked and met is the one stated; the strongest of several met
    assert id_token_of(flow, straight_back(flow, acr_values=SINGLE))["acr"] == SINGLE
    both = straight_back(flow, acr_values=f"{SINGLE} {MFA}")
    assert id_token_of(flow, both)["acr"] == MFA


def test_a_session_from_before_amr_was_recorded_gives_no_amr(
    flow: Flow, provider: Provider
) -> None:
    flow.authorize()
    signed_in_with(provider, None)
    token = id_token_of(flow, straight_back(flow))
    assert "amr" not in token
    assert token["acr"] == SINGLE


# -- ACR-2: refresh keeps them -------------------------------------------------------------------


@pytest.fixture
def rp(storage: Storage) -> RP:
    return offline_client(storage)


def refreshed_id_token(app: webtest.TestApp, rp: RP, token: str) -> dict[str, Any]:
    response = refresh(app, rp, token)
    assert response.status_int == 200, response.text
    body: dict[str, Any] = response.json
    claims = verify_id_token(app, body["id_token"], rp.client_id)
    claims["_refresh_token"] = body["refresh_token"]
    return claims


def test_refreshed_id_tokens_keep_amr_acr_and_auth_time(
    app: webtest.TestApp, rp: RP, alice: Account, provider: Provider
) -> None:
    oflow = offline_flow(app, rp, alice)
    oflow.authorize()
    signed_in_with(provider, TOTP_SIGN_IN)
    first = offline_tokens(oflow)
    original = verify_id_token(app, first["id_token"], rp.client_id)
    assert (original["amr"], original["acr"]) == (["mfa", "otp", "pwd"], MFA)
    second = refreshed_id_token(app, rp, first["refresh_token"])
    third = refreshed_id_token(app, rp, second["_refresh_token"])  # the successor's copy
    for token in (second, third):
        assert (token["amr"], token["acr"]) == (original["amr"], original["acr"])
        assert token["auth_time"] == original["auth_time"]


def test_a_refresh_token_from_before_the_upgrade_gives_neither(
    app: webtest.TestApp, rp: RP, alice: Account, provider: Provider
) -> None:
    first = offline_tokens(offline_flow(app, rp, alice))
    provider.storage.database.execute_sql("UPDATE oidc_refresh_token SET amr = NULL, acr = NULL")
    token = refreshed_id_token(app, rp, first["refresh_token"])
    assert "amr" not in token and "acr" not in token


# -- ACR-3: step-up inside a live session --------------------------------------------------------


def test_acr_values_above_the_session_ask_to_sign_in_again(flow: Flow, provider: Provider) -> None:
    first = id_token_of(flow, flow.authorize())
    authenticated_earlier(provider, 5)
    page = asks_to_log_in(flow, acr_values=MFA)
    response = flow.login(page)
    # a password alone does not reach the class: the second step comes first, here as the
    # enrolment of a user without a factor (the whole way: test_mfa_step_up.py)
    second_factor_page(response, "/login/second-factor")
    assert "Set up two-step verification" in response.text
    assert first["acr"] == SINGLE


def test_a_session_that_meets_the_class_is_not_asked_again(flow: Flow, provider: Provider) -> None:
    flow.authorize()
    signed_in_with(provider, TOTP_SIGN_IN)
    assert id_token_of(flow, straight_back(flow, acr_values=MFA))["acr"] == MFA
    assert id_token_of(flow, straight_back(flow, claims=essential(MFA)))["acr"] == MFA
    asks_to_log_in(flow, acr_values=authn.ACR_PHISHING_RESISTANT)  # a key was not used


def test_unknown_acr_values_are_ignored(flow: Flow) -> None:
    flow.authorize()
    assert id_token_of(flow, straight_back(flow, acr_values="gold 2"))["acr"] == SINGLE
    # the weakest class offered among those asked is what the request requires
    assert id_token_of(flow, straight_back(flow, acr_values=f"gold {MFA} {SINGLE}"))


# -- ACR-4: an essential acr ---------------------------------------------------------------------


def test_an_essential_acr_not_reached_after_sign_in_fails_the_request(
    flow: Flow, provider: Provider
) -> None:
    flow.authorize()
    device = enrol(flow.app)  # an authenticator app: two factors, but not phishing-resistant
    codes = code_rows(provider)
    page = asks_to_log_in(flow, claims=essential(authn.ACR_PHISHING_RESISTANT), state=STATE)
    done = second_step(flow.app, flow.login(page), device.code())
    assert done.status_int == 303, done.text[:300]
    callback = query_of(done.headers["Location"])  # OIDC Core 5.5.1.1: authentication failed
    assert callback["error"] == "unmet_authentication_requirements"
    assert (callback["state"], callback["iss"]) == (STATE, flow.issuer)
    assert "code" not in callback
    assert code_rows(provider) == codes
    open_requests = "SELECT COUNT(*) FROM oidc_pending_authorization WHERE completed_at IS NULL"
    assert provider.storage.database.execute_sql(open_requests).fetchone()[0] == 0
    again = flow.login(page)  # the request is finished: no second try, no code
    assert again.status_int in (400, 403)
    assert code_rows(provider) == codes


def test_an_essential_acr_with_value_instead_of_values(flow: Flow, provider: Provider) -> None:
    flow.authorize()
    signed_in_with(provider, TOTP_SIGN_IN)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "value": MFA}}})
    assert id_token_of(flow, straight_back(flow, claims=claims))["acr"] == MFA


@pytest.mark.parametrize(
    "acr_member",
    [
        {"essential": True},
        {"essential": True, "values": []},
        {"essential": "yes", "values": ["gold"]},
        {"values": "not a list"},
        {"values": [1, None, {"x": 1}]},
        {"value": 7},
    ],
)
def test_odd_acr_members_ask_for_nothing(flow: Flow, acr_member: dict[str, Any]) -> None:
    flow.authorize()
    claims = json.dumps({"id_token": {"acr": acr_member}})
    assert id_token_of(flow, straight_back(flow, claims=claims))["acr"] == SINGLE


def test_the_claims_parameter_decides_over_acr_values(flow: Flow, provider: Provider) -> None:
    flow.authorize()
    signed_in_with(provider, TOTP_SIGN_IN)
    voluntary = json.dumps({"id_token": {"acr": {"values": [SINGLE]}}})
    back = straight_back(flow, claims=voluntary, acr_values=authn.ACR_PHISHING_RESISTANT)
    assert id_token_of(flow, back)["acr"] == SINGLE


# -- ACR-5: prompt=none ----------------------------------------------------------------------------


@pytest.mark.parametrize("ask", [{"acr_values": MFA}, {"claims": essential(MFA)}])
def test_prompt_none_with_a_class_the_session_lacks_is_login_required(
    flow: Flow, provider: Provider, ask: dict[str, str]
) -> None:
    flow.authorize()
    codes = code_rows(provider)
    redirect_error(flow, flow.start(prompt="none", state=STATE, **ask), "login_required")
    assert code_rows(provider) == codes


# -- ACR-6: max_age=0 ----------------------------------------------------------------------------


def test_max_age_0_signs_in_again_within_the_same_second(flow: Flow, provider: Provider) -> None:
    first = id_token_of(flow, flow.authorize())
    page = asks_to_log_in(flow, max_age="0")  # at once: the session is not a second old
    second = id_token_of(flow, logged_in_again(flow, page))
    assert first["auth_time"] <= second["auth_time"] <= time.time()
    authenticated_earlier(provider, 30)
    third = id_token_of(flow, logged_in_again(flow, asks_to_log_in(flow, max_age="0")))
    assert third["auth_time"] >= second["auth_time"]
    assert third["sub"] == first["sub"]
    redirect_error(flow, flow.start(max_age="0", prompt="none", state=STATE), "login_required")


# -- ACR-7: discovery ----------------------------------------------------------------------------


def test_discovery_advertises_the_classes_and_the_claims(app: webtest.TestApp) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["acr_values_supported"] == [SINGLE, MFA, authn.ACR_PHISHING_RESISTANT]
    assert {"acr", "amr"} <= set(metadata["claims_supported"])
    assert metadata["claims_parameter_supported"] is True
