"""A real relying-party library (Authlib's requests client) against a real server.

The provider runs as ``oidc-core serve`` (gunicorn, two workers) on a free loopback port,
set up through the CLI exactly as an operator would, over https (a throwaway CA that the
client trusts through ``REQUESTS_CA_BUNDLE``) and over plain http (``live_provider``).  A
``requests.Session`` plays the browser; Authlib's ``OAuth2Session`` builds the authorization
request (state, nonce, PKCE S256), exchanges the code, refreshes and revokes.  ID tokens are
checked by Authlib's own ``OpenIDMixin.parse_id_token`` (joserfc, Authlib's JOSE backend,
and its ``CodeIDToken`` rules: iss, aud, nonce, at_hash ...) and again strictly with joserfc.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

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

CLIENT = "Authlib"


@pytest.fixture(scope="module")
def rp(live_provider: LiveProvider) -> RP:
    return register(live_provider, CLIENT)


@pytest.fixture
def trace(rp: RP) -> Trace:
    return trace_of(CLIENT, "Authlib", rp.live)


class _NoFramework:
    """Authlib's framework integrations store tokens in a web session; none here."""

    def update_token(self, *args: Any, **kwargs: Any) -> None:
        return None


class AuthlibApp(OpenIDMixin, OAuth2Mixin, BaseApp):  # type: ignore[misc]
    """Authlib's remote app, as its Flask, Django and Starlette integrations build it."""

    client_cls = OAuth2Session


def _app(rp: RP, trace: Trace) -> AuthlibApp:
    app = AuthlibApp(
        _NoFramework(),
        name="interop",
        client_id=rp.client_id,
        client_secret=rp.client_secret,
        server_metadata_url=rp.live.issuer + "/.well-known/openid-configuration",
    )
    app.client_cls = lambda **kwargs: trace.watch(OAuth2Session(**kwargs))
    return app


def _session(rp: RP, trace: Trace, **kwargs: Any) -> OAuth2Session:
    options: dict[str, Any] = {
        "client_secret": rp.client_secret,
        "scope": OFFLINE_SCOPE,
        "redirect_uri": rp.redirect_uri,
        "code_challenge_method": "S256",
    }
    options.update(kwargs)
    return trace.watch(OAuth2Session(rp.client_id, **options))  # type: ignore[return-value]


@dataclass
class Authorized:
    callback: str
    state: str
    nonce: str
    verifier: str


def _authorize(rp: RP, trace: Trace, session: OAuth2Session) -> Authorized:
    """Authorization request through Authlib, login and consent on the provider's pages."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    with trace.step("authorization request"):
        url, state = session.create_authorization_url(
            rp.metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            prompt="consent",
        )
    with trace.step("login and consent"):
        callback = sign_in(trace, rp.live, url, rp.account)
        params = callback_params(callback, rp.redirect_uri)
        assert params["state"] == state
        assert params["iss"] == rp.live.issuer
        assert "code" in params, params
    return Authorized(callback, state, nonce, verifier)


def _fetch_token(session: OAuth2Session, rp: RP, authorized: Authorized) -> dict[str, Any]:
    return dict(
        session.fetch_token(
            rp.metadata["token_endpoint"],
            authorization_response=authorized.callback,
            state=authorized.state,
            code_verifier=authorized.verifier,
        )
    )


def _verify_id_token(rp: RP, id_token: str, nonce: str) -> dict[str, Any]:
    """Signature and claims with joserfc, strictly (essential claims, RS256, known kid)."""
    jwks = requests.get(rp.metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    token = jwt.decode(
        id_token,
        KeySet.import_key_set(jwks),
        algorithms=rp.metadata["id_token_signing_alg_values_supported"],
    )
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] in {key["kid"] for key in jwks["keys"]}
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": rp.live.issuer},
        aud={"essential": True, "value": rp.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(token.claims)
    return dict(token.claims)


def test_discovery_matches_the_issuer(rp: RP, trace: Trace) -> None:
    with trace.step("discovery"):
        meta = _app(rp, trace).load_server_metadata()
        assert meta["issuer"] == rp.live.issuer
        for name in (
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "revocation_endpoint",
        ):
            assert meta[name].startswith(rp.live.issuer + "/"), (name, meta[name])
        assert "S256" in meta["code_challenge_methods_supported"]
        assert {"client_secret_basic", "client_secret_post"} <= set(
            meta["token_endpoint_auth_methods_supported"]
        )


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_code_flow_refresh_and_revocation(rp: RP, trace: Trace, auth_method: str) -> None:
    session = _session(rp, trace, token_endpoint_auth_method=auth_method)
    app = _app(rp, trace)
    authorized = _authorize(rp, trace, session)

    with trace.step("token request"):
        token = _fetch_token(session, rp, authorized)
        assert token["token_type"].lower() == "bearer"
        assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
        assert set(token["scope"].split()) == set(OFFLINE_SCOPE.split())
        assert token.get("refresh_token"), "offline_access granted: a refresh token"

    with trace.step("ID token (Authlib's parse_id_token)"):
        claims = app.parse_id_token(token, nonce=authorized.nonce)
        assert claims["sub"] == rp.account.subject
        assert "at_hash" in claims
    with trace.step("ID token (joserfc, strict)"):
        strict = _verify_id_token(rp, token["id_token"], authorized.nonce)
        assert abs(strict["iat"] - time.time()) < 60

    with trace.step("userinfo"):
        info = app.userinfo(token=token)
        assert info["sub"] == rp.account.subject
        assert info["email"] == rp.account.email
        assert info["email_verified"] is True

    with trace.step("refresh"):
        refreshed = dict(
            session.refresh_token(
                rp.metadata["token_endpoint"], refresh_token=token["refresh_token"]
            )
        )
        assert refreshed["access_token"] != token["access_token"]
        assert app.userinfo(token=refreshed)["sub"] == rp.account.subject
    rotated = refreshed.get("refresh_token", token["refresh_token"])

    with trace.step("revoke"):
        response = session.revoke_token(
            rp.metadata["revocation_endpoint"], token=rotated, token_type_hint="refresh_token"
        )
        assert response.status_code == 200, response.text
    with trace.step("refresh after revocation"), pytest.raises(OAuthError) as caught:
        session.refresh_token(rp.metadata["token_endpoint"], refresh_token=rotated)
    assert caught.value.error == "invalid_grant"


def test_authlib_rejects_a_wrong_nonce(rp: RP, trace: Trace) -> None:
    """The Authlib validation is live: the same token fails with another nonce."""
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request"):
        token = _fetch_token(session, rp, authorized)
    with trace.step("ID token with another nonce"):
        with pytest.raises(JoseError, match="nonce"):
            _app(rp, trace).parse_id_token(token, nonce="not-the-nonce")
        with pytest.raises(JoseError, match="nonce"):
            _verify_id_token(rp, token["id_token"], "not-the-nonce")


def test_authlib_rejects_a_tampered_id_token(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request"):
        token = _fetch_token(session, rp, authorized)
    app = _app(rp, trace)
    with trace.step("ID token as issued"):
        assert app.parse_id_token(token, nonce=authorized.nonce)["sub"] == rp.account.subject
    for how, forged in tampered(token["id_token"]).items():
        with trace.step(f"tampered ID token ({how})"), pytest.raises(JoseError):
            app.parse_id_token({**token, "id_token": forged}, nonce=authorized.nonce)


def test_second_use_of_a_code_is_invalid_grant(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    with trace.step("token request"):
        assert "access_token" in _fetch_token(session, rp, authorized)
    with trace.step("second redemption of the code"), pytest.raises(OAuthError) as caught:
        _fetch_token(_session(rp, trace), rp, authorized)
    assert caught.value.error == "invalid_grant"


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_wrong_client_secret_is_invalid_client(rp: RP, trace: Trace, auth_method: str) -> None:
    session = _session(rp, trace, token_endpoint_auth_method=auth_method)
    authorized = _authorize(rp, trace, session)
    wrong = _session(
        rp, trace, client_secret="not-" + rp.client_secret, token_endpoint_auth_method=auth_method
    )
    with trace.step("token request, wrong secret"), pytest.raises(OAuthError) as caught:
        _fetch_token(wrong, rp, authorized)
    assert caught.value.error == "invalid_client"
    # The code survives a failed client authentication: the real client can still use it.
    with trace.step("token request, right secret"):
        assert "id_token" in _fetch_token(session, rp, authorized)


def test_wrong_code_verifier_is_invalid_grant(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    authorized = _authorize(rp, trace, session)
    authorized.verifier = secrets.token_urlsafe(48)
    with trace.step("token request, wrong verifier"), pytest.raises(OAuthError) as caught:
        _fetch_token(session, rp, authorized)
    assert caught.value.error == "invalid_grant"


def test_unregistered_redirect_uri_is_an_error_page(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace, redirect_uri="http://127.0.0.1:9/not-registered")
    url, _state = session.create_authorization_url(
        rp.metadata["authorization_endpoint"],
        code_verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(16),
    )
    with trace.step("authorization request, unregistered redirect URI"):
        unregistered_redirect(trace, url)


def test_prompt_none_without_a_session_is_login_required(rp: RP, trace: Trace) -> None:
    session = _session(rp, trace)
    url, state = session.create_authorization_url(
        rp.metadata["authorization_endpoint"],
        code_verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(16),
        prompt="none",
    )
    with trace.step("prompt=none without a session"):
        callback = prompt_none_without_session(trace, rp.live, url)
        params = callback_params(callback, rp.redirect_uri)
        assert params["error"] == "login_required", params
        assert params["state"] == state
        assert params["iss"] == rp.live.issuer
