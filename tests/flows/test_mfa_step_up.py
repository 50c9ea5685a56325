"""A relying party that asks for two factors gets them: ``acr_values`` or an essential
``acr`` claim naming the mfa class makes the sign-in's second step happen (with enrolment
for a user without a factor), even inside a live password-only session, and the ID token
(PyJWT against /jwks) says how the user signed in.  ``max_age=0`` asks for both steps
again.
"""

from __future__ import annotations

import json

import pytest
import webtest

from oidc_core import authn
from tests.flows.test_mfa_policy import enrol_within_sign_in
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token
from tests.support.mfa import enrol, second_factor_page, second_step

pytestmark = pytest.mark.mounts("one")

MFA = authn.ACR_MFA
ESSENTIAL_MFA = json.dumps({"id_token": {"acr": {"essential": True, "values": [MFA]}}})


def signed_in_with_a_password(app: webtest.TestApp, flow: Flow) -> dict[str, object]:
    """Alice signs in to the app with her password alone (she has no factor yet)."""
    callback = flow.authorize()
    claims = verify_id_token(
        app, flow.token(callback["code"]).json["id_token"], flow.client.client_id
    )
    assert claims["amr"] == ["pwd"] and claims["acr"] == authn.ACR_SINGLE_FACTOR
    return claims


def code_after_consent(flow: Flow, response: webtest.TestResponse) -> str:
    location = response.headers["Location"]
    if "/consent" in location:
        location = flow.consent(flow.app.get(location)).headers["Location"]
    return query_of(location)["code"]


@pytest.mark.parametrize(
    "ask", [{"acr_values": MFA}, {"claims": ESSENTIAL_MFA}], ids=["acr_values", "essential"]
)
def test_asking_for_mfa_in_a_live_password_session_asks_for_the_code(
    app: webtest.TestApp, client_a: RP, alice: Account, ask: dict[str, str]
) -> None:
    """ACR-10: the session (password alone) does not meet the class: the login page, then
    the second step; the ID token says mfa with otp."""
    flow = Flow(app, client_a, alice)
    first = signed_in_with_a_password(app, flow)
    device = enrol(app)  # on the account pages of the same browser
    response = flow.start(**ask)
    assert response.status_int in (302, 303) and "/login?" in response.headers["Location"]
    page = flow.login(app.get(response.headers["Location"]))
    second_factor_page(page, "/login/second-factor")
    assert second_step(app, page, device.wrong()).status_int == 401
    done = second_step(app, page, device.code())
    assert done.status_int == 303, done.text[:500]
    claims = verify_id_token(
        app, flow.token(code_after_consent(flow, done)).json["id_token"], client_a.client_id
    )
    assert claims["sub"] == alice.subject
    assert claims["amr"] == ["mfa", "otp", "pwd"] and claims["acr"] == MFA
    assert claims["auth_time"] >= first["auth_time"]
    # the session now meets the class: no page the next time
    assert "code" in flow.authorize(**ask)


def test_asking_for_mfa_leads_a_user_without_a_factor_through_enrolment(
    app: webtest.TestApp, client_a: RP, bob: Account
) -> None:
    """ACR-10: no factor yet: enrolment within the sign-in, then the code; acr mfa."""
    flow = Flow(app, client_a, bob)
    page = flow.login(app.get(flow.start(acr_values=MFA).headers["Location"]))
    _, location = enrol_within_sign_in(app, page, "/login/second-factor")
    if "/consent" in location:
        location = flow.consent(app.get(location)).headers["Location"]
    code = query_of(location)["code"]
    claims = verify_id_token(app, flow.token(code).json["id_token"], client_a.client_id)
    assert claims["amr"] == ["mfa", "otp", "pwd"] and claims["acr"] == MFA


def test_max_age_0_asks_for_both_steps_again(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    """ACR-10 and T-21: a fresh sign-in, password and code, inside a live mfa session."""
    flow = Flow(app, client_a, alice)
    signed_in_with_a_password(app, flow)
    device = enrol(app)
    response = flow.start(max_age="0")
    page = flow.login(app.get(response.headers["Location"]))
    second_factor_page(page, "/login/second-factor")
    done = second_step(app, page, device.code())
    assert done.status_int == 303, done.text[:500]
    claims = verify_id_token(
        app, flow.token(code_after_consent(flow, done)).json["id_token"], client_a.client_id
    )
    assert claims["amr"] == ["mfa", "otp", "pwd"]
    again = flow.start(max_age="0")
    assert "/login?" in again.headers["Location"]  # not silently, even right after
