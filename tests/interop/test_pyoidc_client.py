"""pyoidc (PyPI ``oic``), the Roland Hedberg relying-party library, against a real server.

``live_provider`` runs ``oidc-core serve`` over https (a throwaway CA, given to pyoidc as
``verify_ssl``) and over plain http.  pyoidc's ``Client`` reads the discovery document
(``provider_config``: it checks the issuer and fetches the JWK Set), gets its registration
by hand (``store_registration_info``: the provider has no dynamic registration), builds the
authorization request (state, nonce, PKCE S256 from ``add_code_challenge``), and verifies
the ID token itself when it parses the token response (signature with the provider's keys,
iss, aud, exp, nonce).  A ``requests.Session`` plays the browser.

pyoidc holds the ID token to the registered signing algorithm only when the caller passes
``algs=client.sign_enc_algs("id_token")`` (its ``Consumer`` does): without it, it accepts an
unsigned (``alg: none``) ID token.  Every parse here passes it, as an application must.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from jwkest import JWKESTException
from oic import rndstr
from oic.exception import PyoidcError
from oic.extension.client import Client as ExtensionClient
from oic.oauth2.message import ErrorResponse
from oic.oic import Client
from oic.oic.message import AccessTokenResponse, AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import OauthClientSettings, OicClientSettings

from tests.support.interop import (
    OFFLINE_SCOPE,
    RP,
    callback_params,
    prompt_none_without_session,
    register,
    sign_in,
    tampered,
    trace_of,
    unregistered_redirect,
)
from tests.support.live import LiveProvider
from tests.support.trace import Trace

pytestmark = pytest.mark.server

CLIENT = "pyoidc"
# How pyoidc (and pyjwkest under it) refuse a token.
REJECTED = (PyoidcError, JWKESTException)


@pytest.fixture(scope="module")
def rp(live_provider: LiveProvider) -> RP:
    return register(live_provider, CLIENT)


@pytest.fixture
def trace(rp: RP) -> Trace:
    return trace_of(CLIENT, "oic", rp.live)


def _registration(rp: RP) -> RegistrationResponse:
    return RegistrationResponse(
        client_id=rp.client_id,
        client_secret=rp.client_secret,
        redirect_uris=[rp.redirect_uri],
        token_endpoint_auth_method="client_secret_basic",
    )


def _client(rp: RP, trace: Trace) -> Client:
    """pyoidc's Client: discovery, then the registration set by hand."""
    settings = OicClientSettings(
        verify_ssl=rp.live.verify, requests_session=trace.watch(requests.Session())
    )
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD, settings=settings)
    with trace.step("discovery (provider_config)"):
        info = client.provider_config(rp.live.issuer)
        assert info["issuer"] == rp.live.issuer
    client.store_registration_info(_registration(rp))
    client.redirect_uris = [rp.redirect_uri]
    return client


@dataclass
class Authorized:
    state: str
    nonce: str
    verifier: str
    response: AuthorizationResponse


def _authorization_url(client: Client, rp: RP, **extra: str) -> tuple[str, str, str, str]:
    """(url, state, nonce, code_verifier) of an authorization request built by pyoidc."""
    state, nonce = rndstr(32), rndstr(32)
    pkce, verifier = client.add_code_challenge()
    assert pkce["code_challenge_method"] == "S256"
    request_args = {
        "response_type": "code",
        "scope": OFFLINE_SCOPE,
        "state": state,
        "nonce": nonce,
        "redirect_uri": extra.pop("redirect_uri", rp.redirect_uri),
        **pkce,
        **extra,
    }
    request = client.construct_AuthorizationRequest(request_args=request_args)
    return request.request(client.authorization_endpoint), state, nonce, verifier


def _authorize(client: Client, rp: RP, trace: Trace) -> Authorized:
    with trace.step("authorization request"):
        url, state, nonce, verifier = _authorization_url(client, rp, prompt="consent")
    with trace.step("login and consent"):
        callback = sign_in(trace, rp.live, url, rp.account)
        assert callback_params(callback, rp.redirect_uri)["iss"] == rp.live.issuer
    with trace.step("authorization response (parse_response)"):
        response = client.parse_response(
            AuthorizationResponse, info=callback.split("?", 1)[1], sformat="urlencoded"
        )
        assert isinstance(response, AuthorizationResponse), response
        assert response["state"] == state
    return Authorized(state, nonce, verifier, response)


def _token(client: Client, authorized: Authorized, **request_args: Any) -> Any:
    return client.do_access_token_request(
        state=authorized.state,
        request_args={
            "code": authorized.response["code"],
            "code_verifier": authorized.verifier,
            **request_args,
        },
        authn_method="client_secret_basic",
        algs=client.sign_enc_algs("id_token"),
    )


def test_code_flow_refresh_and_revocation(rp: RP, trace: Trace) -> None:
    client = _client(rp, trace)
    authorized = _authorize(client, rp, trace)

    with trace.step("token request (ID token verified by pyoidc)"):
        token = _token(client, authorized)
        assert isinstance(token, AccessTokenResponse), token.to_dict()
        id_token = token["id_token"]  # verified: signature, iss, aud, exp, nonce
        assert id_token["sub"] == rp.account.subject
        assert id_token["iss"] == rp.live.issuer
        assert id_token["aud"] == [rp.client_id]
        assert id_token["nonce"] == authorized.nonce
        assert token["refresh_token"]

    with trace.step("userinfo"):
        info = client.do_user_info_request(state=authorized.state)
        assert info["sub"] == rp.account.subject
        assert info["email"] == rp.account.email

    with trace.step("refresh"):
        refreshed = client.do_access_token_refresh(
            state=authorized.state, authn_method="client_secret_basic"
        )
        assert isinstance(refreshed, AccessTokenResponse), refreshed.to_dict()
        assert refreshed["access_token"] != token["access_token"]
        assert client.do_user_info_request(state=authorized.state)["sub"] == rp.account.subject
    refresh_token = refreshed.get("refresh_token", token["refresh_token"])

    revoker = _revoker(rp, trace)
    with trace.step("revoke"):
        status = revoker.do_token_revocation(
            request_args={"token": refresh_token, "token_type_hint": "refresh_token"},
            authn_method="client_secret_basic",
        )
        assert status == 200
    with trace.step("refresh after revocation"):
        again = client.do_access_token_refresh(
            state=authorized.state, authn_method="client_secret_basic"
        )
        assert isinstance(again, ErrorResponse), again.to_dict()
        assert again["error"] == "invalid_grant"


def _revoker(rp: RP, trace: Trace) -> ExtensionClient:
    """pyoidc's OAuth 2.0 extension client, the one with token revocation (RFC 7009)."""
    settings = OauthClientSettings(
        verify_ssl=rp.live.verify, requests_session=trace.watch(requests.Session())
    )
    client = ExtensionClient(client_authn_method=CLIENT_AUTHN_METHOD, settings=settings)
    with trace.step("discovery (extension client)"):
        client.provider_config(rp.live.issuer)
    client.store_registration_info(_registration(rp))
    return client


def test_pyoidc_rejects_a_tampered_id_token(rp: RP, trace: Trace) -> None:
    client = _client(rp, trace)
    authorized = _authorize(client, rp, trace)
    with trace.step("token request"):
        token = _token(client, authorized)
        assert isinstance(token, AccessTokenResponse), token.to_dict()
    id_token = token["id_token_jwt"]  # the JWT as it came, beside the verified claims
    raw = {"access_token": token["access_token"], "token_type": token["token_type"]}
    with trace.step("the token response as issued"):
        parsed = client.parse_response(
            AccessTokenResponse,
            info=json.dumps({**raw, "id_token": id_token}),
            algs=client.sign_enc_algs("id_token"),
        )
        assert parsed["id_token"]["sub"] == rp.account.subject
    for how, forged in tampered(id_token).items():
        with trace.step(f"tampered ID token ({how})"), pytest.raises(REJECTED):
            client.parse_response(
                AccessTokenResponse,
                info=json.dumps({**raw, "id_token": forged}),
                algs=client.sign_enc_algs("id_token"),
            )


def test_second_use_of_a_code_is_invalid_grant(rp: RP, trace: Trace) -> None:
    client = _client(rp, trace)
    authorized = _authorize(client, rp, trace)
    with trace.step("token request"):
        assert isinstance(_token(client, authorized), AccessTokenResponse)
    with trace.step("second redemption of the code"):
        again = _token(client, authorized)
        assert isinstance(again, ErrorResponse), again.to_dict()
        assert again["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(rp: RP, trace: Trace) -> None:
    client = _client(rp, trace)
    authorized = _authorize(client, rp, trace)
    client.client_secret = "not-" + rp.client_secret
    with trace.step("token request, wrong secret"):
        wrong = _token(client, authorized)
        assert isinstance(wrong, ErrorResponse), wrong.to_dict()
        assert wrong["error"] == "invalid_client"
    client.client_secret = rp.client_secret
    with trace.step("token request, right secret"):
        assert isinstance(_token(client, authorized), AccessTokenResponse)


def test_unregistered_redirect_uri_is_an_error_page(rp: RP, trace: Trace) -> None:
    client = _client(rp, trace)
    url, *_ = _authorization_url(client, rp, redirect_uri="http://127.0.0.1:9/not-registered")
    with trace.step("authorization request, unregistered redirect URI"):
        unregistered_redirect(trace, url)


def test_prompt_none_without_a_session_is_login_required(rp: RP, trace: Trace) -> None:
    client = _client(rp, trace)
    url, state, _nonce, _verifier = _authorization_url(client, rp, prompt="none")
    with trace.step("prompt=none without a session"):
        callback = prompt_none_without_session(trace, rp.live, url)
        assert callback_params(callback, rp.redirect_uri)["error"] == "login_required"
    with trace.step("error response (parse_response)"):
        response = client.parse_response(
            AuthorizationResponse, info=callback.split("?", 1)[1], sformat="urlencoded"
        )
        assert isinstance(response, ErrorResponse), response.to_dict()
        assert response["error"] == "login_required"
        assert response["state"] == state
