"""openid-client registers itself (RFC 7591) and signs a user in with what it registered.

The provider runs as ``oidc-core serve`` on a free loopback port; an administrator issues
an initial access token with ``oidc-core registration-token create``, exactly as the
operator of a fleet of servers would.  ``tests/interop/node/openid_client_rp.mjs`` then
calls openid-client's own ``dynamicClientRegistration`` with that token, and the client it
registered completes the code flow (PKCE, state, nonce, ID token signature checked by
openid-client and again by PyJWT) and calls userinfo.  The token is spent: a second
registration with it is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.relying_party import LiveApp, verified_id_token
from tests.interop.test_node_openid_client import SCOPE, RelyingParty
from tests.support.live import LiveProvider, free_port
from tests.support.node import require_packages, run_script
from tests.support.trace import Trace

pytestmark = pytest.mark.server

PASSWORD = "a long and correct password for a registered client"
SCRIPT = "openid_client_rp.mjs"


def initial_access_token(provider: LiveProvider, uses: int = 1) -> str:
    issued = json.loads(
        provider.cli(
            "registration-token",
            "create",
            "--name",
            "openid-client",
            "--uses",
            str(uses),
            "--json",
        )
    )
    return str(issued["token"])


def register(
    provider: LiveProvider, trace: Trace, ca_file: Path | None, token: str, **metadata: Any
) -> dict[str, Any]:
    request = {
        "step": "register",
        "issuer": provider.issuer,
        "initial_access_token": token,
        "metadata": metadata,
    }
    return run_script(SCRIPT, request, trace, ca_file)


def test_a_client_registered_by_openid_client_completes_the_code_flow(
    live_provider: LiveProvider,
) -> None:
    """Over https (a throwaway CA) and over http on loopback, like the other Node tests."""
    require_packages("openid-client")
    provider, ca_file = live_provider, live_provider.ca_file
    assert provider.log is not None
    trace = Trace("openid-client registration", provider.log)
    email = f"registered-{free_port()}@example.com"
    provider.create_user(email, PASSWORD, "Registered Tester")
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    token = initial_access_token(provider)
    wanted = {
        "redirect_uris": [redirect_uri],
        "client_name": "Registered by openid-client",
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPE,
    }
    with trace.step("dynamic client registration"):
        answer = register(provider, trace, ca_file, token, **wanted)
        assert answer["ok"], f"{answer['step']!r}: {answer['error']}"
        registered = answer["client"]
        assert registered["redirect_uris"] == [redirect_uri]
        assert registered["client_name"] == "Registered by openid-client"
        assert registered["client_secret"] and registered["registration_access_token"]
        assert registered["registration_client_uri"] == (
            f"{provider.issuer}/register/{registered['client_id']}"
        )
        assert registered["client_secret_expires_at"] == 0

    live = LiveApp(
        issuer=provider.issuer,
        metadata=provider.metadata,
        log=provider.log,
        name="Registered by openid-client",
        client_id=registered["client_id"],
        client_secret=registered["client_secret"],
        redirect_uri=redirect_uri,
        email=email,
        password=PASSWORD,
    )
    rp = RelyingParty(live, trace, ca_file, auth_method="client_secret_post")
    authorization = rp.authorize()
    callback = rp.sign_in(authorization)
    with trace.step("code exchange and userinfo with the registered client"):
        answer = rp.exchange(authorization, callback, then=["userinfo"])
        assert answer["ok"], f"{answer['step']!r}: {answer['error']}"
        claims = verified_id_token(live, answer["token"]["id_token"], authorization["nonce"])
        assert claims["aud"] == registered["client_id"]
        assert answer["userinfo"]["sub"] == claims["sub"]
        assert answer["userinfo"]["email"] == email

    with trace.step("the initial access token was for one registration"):
        again = register(provider, trace, ca_file, token, **wanted)
        assert not again["ok"] and again["step"] == "registration", again
        assert again["error"].get("error") == "invalid_token", again["error"]
