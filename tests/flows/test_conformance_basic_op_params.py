"""The Basic OP and Config OP plans' happy flows and tolerated parameters, request
objects, and what discovery says about the authorization request (CONFORMANCE-CHECKLIST.md).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import webtest

from oidc_core import Provider, authn
from oidc_core.testing import pkce_pair
from tests.support.conformance_basic_op import (
    PROFILE,
    STATE,
    asks_to_log_in,
    code_rows,
    id_token_of,
    redirect_error,
    userinfo,
)
from tests.support.flow import Flow, query_of

# -- Basic OP: happy flows and tolerated parameters ----------------------------------------


def test_oidcc_response_type_missing(flow: Flow, provider: Provider) -> None:
    redirect_error(flow, flow.start(response_type=None, state=STATE), "invalid_request")
    assert code_rows(provider) == 0


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(flow: Flow) -> None:
    token = id_token_of(flow, flow.authorize(nonce=None))
    assert "nonce" not in token


def test_oidcc_ensure_request_with_valid_pkce_succeeds(flow: Flow) -> None:
    flow.verifier, challenge = pkce_pair()
    callback = flow.authorize(code_challenge=challenge, code_challenge_method="S256")
    assert id_token_of(flow, callback)["sub"] == flow.user.subject


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(flow: Flow) -> None:
    callback = flow.authorize(extra="foobar", state=STATE)
    assert callback["state"] == STATE
    id_token_of(flow, callback)


def test_oidcc_ensure_post_request_succeeds(flow: Flow) -> None:
    response = flow.app.post("/authorize", flow.authorize_params(state=STATE))
    assert response.status_int == 303
    page = flow.app.get(response.headers["Location"])
    consent = flow.app.get(flow.login(page).headers["Location"])
    callback = query_of(flow.consent(consent).headers["Location"])
    assert callback["state"] == STATE
    id_token_of(flow, callback)


def test_oidcc_alternate_happy_flow(flow: Flow) -> None:
    """Scope values reversed and the query parameters in another order (RFC 6749 3.3)."""
    params = flow.authorize_params(scope="email profile openid", state=STATE)
    query = urlencode(list(reversed(list(params.items()))))
    response = flow.app.get("/authorize?" + query)
    page = flow.app.get(response.headers["Location"])
    consent = flow.app.get(flow.login(page).headers["Location"])
    callback = query_of(flow.consent(consent).headers["Location"])
    assert callback["state"] == STATE
    info = userinfo(flow, id_token_of(flow, callback))
    assert PROFILE | {"email"} <= set(info)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid profile", PROFILE),
        ("openid email", {"email", "email_verified"}),
        ("openid address", set()),
        ("openid phone", set()),
        ("openid address email phone profile", PROFILE | {"email", "email_verified"}),
    ],
    ids=["oidcc_scope_profile", "oidcc_scope_email", "address", "phone", "oidcc_scope_all"],
)
def test_oidcc_scope(flow: Flow, scope: str, expected: set[str]) -> None:
    """oidcc-scope-profile/-email/-address/-phone/-all: address and phone are not offered
    (not in scopes_supported, so the suite skips them) and must not break the flow."""
    token = id_token_of(flow, flow.authorize(scope=scope))
    info = userinfo(flow, token)
    assert set(info) == {"sub"} | expected


def test_unsupported_scopes_are_not_advertised(app: webtest.TestApp) -> None:
    supported = app.get("/.well-known/openid-configuration").json["scopes_supported"]
    assert "address" not in supported and "phone" not in supported


@pytest.mark.parametrize("display", ["page", "popup", "touch", "wap", "unknown"])
def test_oidcc_display_page_and_popup(flow: Flow, display: str) -> None:
    """oidcc-display-page, oidcc-display-popup: accepted, the normal login page."""
    asks_to_log_in(flow, display=display)
    id_token_of(flow, flow.authorize(display=display))


def test_oidcc_login_hint(flow: Flow, issuer: str) -> None:
    """The suite sends buffy@<issuer host>: no error, a fresh login page."""
    host = urlsplit(issuer).hostname
    page = asks_to_log_in(flow, login_hint=f"buffy@{host}")
    assert f'value="buffy@{host}"' in page.text


def test_login_hint_prefills_the_email_field_escaped(flow: Flow) -> None:
    page = asks_to_log_in(flow, login_hint='alice@example.com"><b>')
    assert 'value="alice@example.com&#34;&gt;&lt;b&gt;"' in page.text
    assert asks_to_log_in(flow, login_hint="not-an-email").text.count('value=""') >= 1


def test_oidcc_ui_locales(flow: Flow) -> None:
    asks_to_log_in(flow, ui_locales="se")
    id_token_of(flow, flow.authorize(ui_locales="se fr-CA en"))


def test_oidcc_claims_locales(flow: Flow) -> None:
    id_token_of(flow, flow.authorize(claims_locales="se"))


def test_oidcc_ensure_request_with_acr_values_succeeds(flow: Flow) -> None:
    """acr_values is a voluntary request: the advertised values succeed and the ID token's
    acr is one of them; values we do not offer are ignored (docs/protocol.md)."""
    advertised = flow.app.get("/.well-known/openid-configuration").json["acr_values_supported"]
    token = id_token_of(flow, flow.authorize(acr_values=" ".join(advertised)))
    assert token["acr"] in advertised
    assert id_token_of(flow, flow.authorize(acr_values="1 2"))["acr"] == authn.ACR_SINGLE_FACTOR


def test_essential_acr_we_do_not_offer_is_unmet_at_once(flow: Flow, provider: Provider) -> None:
    """OIDC Core 5.5.1.1: an essential acr that cannot be met is a failed authentication
    (``unmet_authentication_requirements``); a voluntary one is answered with ours."""
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": ["2"]}}})
    redirect_error(
        flow, flow.start(claims=claims, state=STATE), "unmet_authentication_requirements"
    )
    assert code_rows(provider) == 0
    voluntary = json.dumps({"id_token": {"acr": {"values": ["2"]}}})
    assert id_token_of(flow, flow.authorize(claims=voluntary))["acr"] == authn.ACR_SINGLE_FACTOR


# -- request objects ----------------------------------------------------------------------------


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    flow: Flow,
) -> None:
    request_object = jwt.encode(
        {"client_id": flow.client.client_id, "scope": "openid", "response_type": "code"},
        None,
        algorithm="none",
    )
    redirect_error(flow, flow.start(request=request_object, state=STATE), "request_not_supported")


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
    flow: Flow,
) -> None:
    redirect_error(
        flow,
        flow.start(request_uri="https://rp.example/request.jwt", state=STATE),
        "request_uri_not_supported",
    )


# -- Config OP: what discovery says about the authorization request -------------------------


def test_oidcc_discovery_endpoint_verification_authorization_request(
    app: webtest.TestApp,
) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["response_modes_supported"] == ["query", "form_post"]
    assert metadata["claims_parameter_supported"] is True
    assert metadata["request_parameter_supported"] is False
    assert metadata["request_uri_parameter_supported"] is False
    assert "request_object_signing_alg_values_supported" not in metadata
    assert metadata["acr_values_supported"] == list(authn.ACR_VALUES)
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "auth_time" in metadata["claims_supported"]
