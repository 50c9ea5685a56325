"""A client registers itself through Authlib (RFC 7591), manages its registration (RFC
7592) and signs a user in with it, against a real server.

Authlib has no client-side registration call: its ``OAuth2Session`` sends the registration
request with the initial access token as its Bearer token, and Authlib's own metadata
rules (``authlib.oauth2.rfc7591.ClientMetadataClaims`` and OpenID Connect Registration's
``authlib.oidc.registration.ClientMetadataClaims``) check what the provider answered.  The
registered client then completes the code flow through Authlib (PKCE S256, ``fetch_token``
with ``client_secret_post``, ``parse_id_token``).  The registration access token is
rotated on every use: each answer's token works once, the one before it never again.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7591 import ClientMetadataClaims
from authlib.oidc.registration import ClientMetadataClaims as OpenIDClientMetadataClaims

from tests.support.interop import (
    OFFLINE_SCOPE,
    callback_params,
    new_account,
    sign_in,
    trace_of,
)
from tests.support.live import HTTP_TIMEOUT, LiveProvider, free_port
from tests.support.trace import Trace

pytestmark = pytest.mark.server


class _NoFramework:
    def update_token(self, *args: Any, **kwargs: Any) -> None:
        return None


class AuthlibApp(OpenIDMixin, OAuth2Mixin, BaseApp):  # type: ignore[misc]
    client_cls = OAuth2Session


@pytest.fixture
def trace(live_provider: LiveProvider) -> Trace:
    return trace_of("Authlib registration", "Authlib", live_provider)


def _bearer(trace: Trace, token: str) -> OAuth2Session:
    """Authlib's session holding ``token`` as its Bearer access token."""
    session = OAuth2Session(token={"access_token": token, "token_type": "Bearer"})
    return trace.watch(session)  # type: ignore[return-value]


def _initial_access_token(live: LiveProvider) -> str:
    issued = json.loads(live.cli("registration-token", "create", "--name", "Authlib", "--json"))
    return str(issued["token"])


def _checked(body: dict[str, Any]) -> None:
    """The registered metadata by Authlib's own RFC 7591 and OIDC Registration rules."""
    ClientMetadataClaims(body, {}).validate()
    OpenIDClientMetadataClaims(body, {}).validate()


def test_a_client_registered_through_authlib_signs_a_user_in(
    live_provider: LiveProvider, trace: Trace
) -> None:
    live = live_provider
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    metadata = live.metadata
    with trace.step("registration (RFC 7591)"):
        response = _bearer(trace, _initial_access_token(live)).post(
            metadata["registration_endpoint"],
            json={
                "redirect_uris": [redirect_uri],
                "client_name": "Registered through Authlib",
                "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["authorization_code", "refresh_token"],
                "scope": OFFLINE_SCOPE,
                "contacts": ["ops@example.com"],  # understood by nobody here: ignored
            },
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 201, response.text
        assert response.headers["Cache-Control"] == "no-store"
        registered = response.json()
        _checked(registered)
        client_id, client_secret = registered["client_id"], registered["client_secret"]

    account = new_account(live, "authlib-registered")
    session = trace.watch(
        OAuth2Session(
            client_id,
            client_secret,
            scope=OFFLINE_SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post",
        )
    )
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with trace.step("authorization with the registered client"):
        url, state = session.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        callback = sign_in(trace, live, url, account)
        assert callback_params(callback, redirect_uri)["state"] == state
    with trace.step("token request and ID token (Authlib's parse_id_token)"):
        token = session.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            state=state,
            code_verifier=verifier,
        )
        app = AuthlibApp(
            _NoFramework(),
            name="registered",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=live.issuer + "/.well-known/openid-configuration",
        )
        claims = app.parse_id_token(token, nonce=nonce)
        assert claims["aud"] == client_id and claims["sub"] == account.subject

    with trace.step("read the registration (RFC 7592); the token rotates"):
        first = registered["registration_access_token"]
        read = _bearer(trace, first).get(
            registered["registration_client_uri"], timeout=HTTP_TIMEOUT
        )
        assert read.status_code == 200, read.text
        _checked(read.json())
        second = read.json()["registration_access_token"]
        assert second != first
        again = _bearer(trace, first).get(registered["registration_client_uri"], timeout=30)
        assert again.status_code == 401, again.text
    with trace.step("update the redirect URIs"):
        moved = f"http://127.0.0.1:{free_port()}/callback"
        update = {**read.json(), "redirect_uris": [moved]}
        for server_only in ("registration_access_token", "registration_client_uri"):
            update.pop(server_only)
        updated = _bearer(trace, second).put(
            registered["registration_client_uri"], json=update, timeout=30
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["redirect_uris"] == [moved]
        third = updated.json()["registration_access_token"]
    with trace.step("delete the registration; the client is gone"):
        deleted = _bearer(trace, third).delete(registered["registration_client_uri"], timeout=30)
        assert deleted.status_code == 204, deleted.text
        gone = trace.session().post(
            metadata["token_endpoint"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": client_id,
                "client_secret": client_secret,
            },
            timeout=HTTP_TIMEOUT,
        )
        assert gone.status_code == 401 and gone.json()["error"] == "invalid_client", gone.text
