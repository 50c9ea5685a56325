"""requests-oauthlib's ``OAuth2Session`` against a real server.

``live_provider`` runs ``oidc-core serve`` over https (a throwaway CA, trusted through
``REQUESTS_CA_BUNDLE``) and over plain http (``OAUTHLIB_INSECURE_TRANSPORT``, loopback only).
The session builds the authorization request with state and PKCE S256 (its ``pkce``
option), checks the callback's state, exchanges the code, calls userinfo and refreshes;
revocation is a POST through the same session (the library has no call of its own).
requests-oauthlib does not look inside ID tokens: they are verified with PyJWT against the
provider's JWK Set, as an application using this library must.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from oauthlib.oauth2 import InvalidClientError, InvalidGrantError, OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

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
from tests.support.live import HTTP_TIMEOUT, LiveProvider
from tests.support.trace import Trace

pytestmark = pytest.mark.server

CLIENT = "requests-oauthlib"


@pytest.fixture(scope="module")
def rp(live_provider: LiveProvider) -> RP:
    # oauthlib refuses an http callback unless OAUTHLIB_INSECURE_TRANSPORT is set: the
    # callback's scheme follows the provider's (nothing listens there).
    return register(live_provider, CLIENT, urlsplit(live_provider.issuer).scheme)


def basic(rp: RP, secret: str | None = None) -> HTTPBasicAuth:
    return HTTPBasicAuth(rp.client_id, secret or rp.client_secret)


@pytest.fixture
def trace(rp: RP) -> Trace:
    return trace_of(CLIENT, "requests-oauthlib", rp.live)


def _session(rp: RP, trace: Trace, **kwargs: Any) -> OAuth2Session:
    options: dict[str, Any] = {
        "redirect_uri": rp.redirect_uri,
        "scope": OFFLINE_SCOPE.split(),
        "pkce": "S256",
    }
    options.update(kwargs)
    session = OAuth2Session(rp.client_id, **options)
    trace.watch(session)
    return session


@dataclass
class Authorized:
    callback: str
    state: str
    nonce: str


def _authorize(rp: RP, trace: Trace, session: OAuth2Session) -> Authorized:
    nonce = secrets.token_urlsafe(16)
    with trace.step("authorization request"):
        url, state = session.authorization_url(
            rp.metadata["authorization_endpoint"], nonce=nonce, prompt="consent"
        )
        assert "code_challenge_method=S256" in url
    with trace.step("login and consent"):
        callback = sign_in(trace, rp.live, url, rp.account)
        params = callback_params(callback, rp.redirect_uri)
        assert params["iss"] == rp.live.issuer
    return Authorized(callback, state, nonce)


def _fetch_token(
    rp: RP, session: OAuth2Session, authorized: Authorized, secret: str | None = None
) -> dict[str, Any]:
    """The code exchange; the session checks the callback's state against its own."""
    return dict(
        session.fetch_token(
            rp.metadata["token_endpoint"],
            authorization_response=authorized.callback,
            auth=basic(rp, secret),
            timeout=HTTP_TIMEOUT,
        )
    )


def _verify_id_token(
    rp: RP, session: OAuth2Session, id_token: str, nonce: str, access_token: str
) -> dict[str, Any]:
    """PyJWT against the published JWK Set: signature, iss, aud, exp, iat, nonce, at_hash."""
    jwks = jwt.PyJWKSet.from_dict(session.get(rp.metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json())
    kid = jwt.get_unverified_header(id_token).get("kid")
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key,
        algorithms=rp.metadata["id_token_signing_alg_values_supported"],
        audience=rp.client_id,
        issuer=rp.live.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce", "at_hash"]},
    )
    assert claims["nonce"] == nonce
    digest = hashlib.sha256(access_token.encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    return claims


def test_code_flow_refresh_and_revocation(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request"):
        token = _fetch_token(rp, session, authorized)
        assert token["token_type"].lower() == "bearer"
        assert token["refresh_token"]
    with trace.step("ID token (PyJWT)"):
        claims = _verify_id_token(
            rp, session, token["id_token"], authorized.nonce, token["access_token"]
        )
        assert claims["sub"] == rp.account.subject
    with trace.step("userinfo"):
        response = session.get(rp.metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        assert response.json()["sub"] == rp.account.subject
        assert response.json()["email"] == rp.account.email

    with trace.step("refresh"):
        refreshed = dict(
            session.refresh_token(
                rp.metadata["token_endpoint"],
                refresh_token=token["refresh_token"],
                auth=basic(rp),
                timeout=HTTP_TIMEOUT,
            )
        )
        assert refreshed["access_token"] != token["access_token"]
        response = session.get(rp.metadata["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
        assert response.json()["sub"] == rp.account.subject
    refresh_token = refreshed.get("refresh_token", token["refresh_token"])

    with trace.step("revoke"):
        response = session.post(
            rp.metadata["revocation_endpoint"],
            data={"token": refresh_token, "token_type_hint": "refresh_token"},
            auth=basic(rp),
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200, response.text
    with trace.step("refresh after revocation"), pytest.raises(InvalidGrantError):
        session.refresh_token(
            rp.metadata["token_endpoint"],
            refresh_token=refresh_token,
            auth=basic(rp),
            timeout=HTTP_TIMEOUT,
        )


def test_pyjwt_rejects_a_tampered_id_token(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request"):
        token = _fetch_token(rp, session, authorized)
    id_token, access_token = token["id_token"], token["access_token"]
    with trace.step("ID token as issued"):
        _verify_id_token(rp, session, id_token, authorized.nonce, access_token)
    for how, forged in tampered(id_token).items():
        with trace.step(f"tampered ID token ({how})"), pytest.raises(jwt.PyJWTError):
            _verify_id_token(rp, session, forged, authorized.nonce, access_token)


def test_second_use_of_a_code_is_invalid_grant(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request"):
        assert "access_token" in _fetch_token(rp, session, authorized)
    with trace.step("second redemption of the code"), pytest.raises(InvalidGrantError):
        _fetch_token(rp, session, authorized)


def test_wrong_client_secret_is_invalid_client(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request, wrong secret"), pytest.raises(InvalidClientError):
        _fetch_token(rp, session, authorized, secret="not-" + rp.client_secret)
    with trace.step("token request, right secret"):
        assert "id_token" in _fetch_token(rp, session, authorized)


def test_unregistered_redirect_uri_is_an_error_page(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace, redirect_uri="http://127.0.0.1:9/not-registered")
    url, _state = session.authorization_url(rp.metadata["authorization_endpoint"])
    with trace.step("authorization request, unregistered redirect URI"):
        unregistered_redirect(trace, url)


def test_prompt_none_without_a_session_is_login_required(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    url, state = session.authorization_url(rp.metadata["authorization_endpoint"], prompt="none")
    with trace.step("prompt=none without a session"):
        callback = prompt_none_without_session(trace, rp.live, url)
        assert callback_params(callback, rp.redirect_uri)["state"] == state
    with trace.step("the error at the callback"), pytest.raises(OAuth2Error) as caught:
        _fetch_token(rp, session, Authorized(callback, state, ""))
    assert caught.value.error == "login_required"
