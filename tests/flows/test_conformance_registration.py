"""The conformance suite's dynamic plan modules, one test each, named after the module
(CONFORMANCE-CHECKLIST.md): the client is registered through ``/register`` (RFC 7591)
first.  ID tokens are verified with PyJWT against the JWKS.
"""

from __future__ import annotations

import html
from typing import Any

import jwt
import webtest

from oidc_core import Provider, keys
from oidc_core.storage import Storage
from tests.support.flow import Account, Flow, verify_id_token
from tests.support.key_rotation import RelyingParty, live_kids
from tests.support.key_rotation import saved_keys as saved_keys
from tests.support.registration import METADATA, Registered, issue, refused, register
from tests.support.sector_server import SectorServer
from tests.support.sector_server import sector_server as sector_server


def registered(app: webtest.TestApp, provider: Provider, **metadata: Any) -> Registered:
    _, token = issue(provider)
    return Registered(app, register(app, token, {**METADATA, **metadata}))


def consent_page(app: webtest.TestApp, client: Registered, user: Account) -> str:
    """The consent page the registered client's first sign-in shows."""
    flow = Flow(app, client.rp, user)
    login = app.get(flow.start().headers["Location"])
    page = app.get(flow.login(login).headers["Location"])
    assert page.status_int == 200 and 'name="decision"' in page.text
    return str(page.text)


def tokens(
    app: webtest.TestApp, client: Registered, user: Account, auth: str = "basic"
) -> dict[str, Any]:
    flow = Flow(app, client.rp, user)
    response = flow.token(flow.authorize()["code"], auth=auth)
    assert response.status_int == 200, response.text
    return dict(response.json)


def id_token(app: webtest.TestApp, client: Registered, user: Account, auth: str = "basic") -> str:
    return str(tokens(app, client, user, auth)["id_token"])


def access_token(app: webtest.TestApp, client: Registered, user: Account) -> str:
    return str(tokens(app, client, user)["access_token"])


def test_oidcc_registration_logo_uri(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    logo = "https://server1.example/logo.png"
    client = registered(app, provider, logo_uri=logo)
    assert client.body["logo_uri"] == logo
    assert f'<img src="{logo}"' in consent_page(app, client, alice)


def test_oidcc_registration_policy_uri(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    policy = "https://server1.example/privacy?lang=en&v=2"
    client = registered(app, provider, policy_uri=policy)
    assert client.body["policy_uri"] == policy
    page = consent_page(app, client, alice)
    assert f'<a href="{html.escape(policy)}" target="_blank" rel="noopener noreferrer">' in page
    assert "Privacy policy</a>" in page


def test_oidcc_registration_tos_uri(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    tos = "https://server1.example/terms"
    client = registered(app, provider, tos_uri=tos)
    assert client.body["tos_uri"] == tos
    page = consent_page(app, client, alice)
    assert f'<a href="{tos}" target="_blank" rel="noopener noreferrer">Terms of service</a>' in page
    german = app.get(
        "/authorize", {**Flow(app, client.rp, alice).authorize_params(), "ui_locales": "de"}
    )
    assert german.status_int == 303  # the session from above: straight to consent
    assert "Nutzungsbedingungen</a>" in app.get(german.headers["Location"]).text


def test_oidcc_redirect_uri_regfrag(
    app: webtest.TestApp, provider: Provider, storage: Storage
) -> None:
    _, token = issue(provider)
    metadata = {**METADATA, "redirect_uris": ["https://server1.example/cb#fragment"]}
    error = refused(app, "POST", "/register", token, metadata, status=400)
    assert error["error"] == "invalid_redirect_uri" and "fragment" in error["error_description"]
    stored = provider.storage.initial_access_tokens.all()
    assert [record.uses for record in stored] == [0]


def test_oidcc_idtoken_signature(app: webtest.TestApp, provider: Provider, alice: Account) -> None:
    """A registered client that asked for no algorithm: RS256 with a kid in the JWK Set."""
    client = registered(app, provider)
    assert client.body["id_token_signed_response_alg"] == "RS256"
    token = id_token(app, client, alice)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] in {key["kid"] for key in app.get("/jwks").json["keys"]}
    assert verify_id_token(app, token, client.rp.client_id)["sub"] == alice.subject


def test_oidcc_idtoken_unsigned(app: webtest.TestApp, provider: Provider) -> None:
    """Registering for unsigned ID tokens is refused; discovery never offers `none`."""
    _, token = issue(provider)
    metadata = {**METADATA, "id_token_signed_response_alg": "none"}
    error = refused(app, "POST", "/register", token, metadata, status=400)
    assert error["error"] == "invalid_client_metadata"
    discovery = app.get("/.well-known/openid-configuration").json
    assert "none" not in discovery["id_token_signing_alg_values_supported"]


def test_oidcc_server_client_secret_post(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client = registered(app, provider, token_endpoint_auth_method="client_secret_post")
    token = id_token(app, client, alice, auth="post")
    assert verify_id_token(app, token, client.rp.client_id)["sub"] == alice.subject


def test_oidcc_server_rotate_keys(
    app: webtest.TestApp, provider: Provider, storage: Storage, alice: Account
) -> None:
    """A registered client, a key rotation, then an ID token signed by the new key that
    the relying party verifies against the JWK Set it fetches again."""
    client = registered(app, provider)
    relying_party = RelyingParty(client.rp.client_id)
    before = relying_party.verify(app, id_token(app, client, alice))
    (old,) = live_kids(storage, "current")
    keys.rotate(storage, "RS256", min_next_age=0)
    rotation = keys.rotate(storage, "RS256", min_next_age=0)
    assert rotation.retired == old and rotation.promoted is not None
    provider.keys.invalidate()
    token = id_token(app, client, alice)
    assert jwt.get_unverified_header(token)["kid"] == rotation.promoted
    after = relying_party.verify(app, token)
    assert after["sub"] == before["sub"] == alice.subject


def test_oidcc_registration_sector_uri(
    app: webtest.TestApp, provider: Provider, alice: Account, sector_server: SectorServer
) -> None:
    """A pairwise client registers with a ``sector_identifier_uri`` listing its redirect
    URIs on two hosts; it signs in with a pairwise ``sub``, the same from either URI, that
    a server of the same sector registering later sees too."""
    redirects = ["https://rp-one.example/cb", "https://rp-two.example/cb"]
    uri = sector_server.serve("/sector.json", redirects)
    client = registered(
        app,
        provider,
        redirect_uris=redirects,
        subject_type="pairwise",
        sector_identifier_uri=uri,
    )
    assert client.body["subject_type"] == "pairwise"
    assert client.body["sector_identifier_uri"] == uri
    assert sector_server.gets == ["/sector.json"]
    first = verify_id_token(app, id_token(app, client, alice), client.rp.client_id)
    assert first["sub"] != alice.subject
    other_uri = Registered(app, {**client.body, "redirect_uris": redirects[::-1]})
    again = verify_id_token(app, id_token(app, other_uri, alice), client.rp.client_id)
    assert again["sub"] == first["sub"]
    userinfo = app.get(
        "/userinfo", headers={"Authorization": f"Bearer {access_token(app, client, alice)}"}
    ).json
    assert userinfo["sub"] == first["sub"]


def test_oidcc_registration_sector_bad(
    app: webtest.TestApp, provider: Provider, sector_server: SectorServer
) -> None:
    """A sector document that does not list the redirect URI: ``invalid_client_metadata``,
    no client, and the initial access token not spent."""
    uri = sector_server.serve("/sector.json", ["https://other.example/cb"])
    token_id, token = issue(provider)
    before = len(provider.clients.search())
    metadata = {
        **METADATA,
        "redirect_uris": ["https://rp.example/cb"],
        "subject_type": "pairwise",
        "sector_identifier_uri": uri,
    }
    error = refused(app, "POST", "/register", token, metadata, status=400)
    assert error["error"] == "invalid_client_metadata", error
    assert "https://rp.example/cb" in error["error_description"]
    assert len(provider.clients.search()) == before
    spent = provider.storage.initial_access_tokens.get(token_id)
    assert spent is not None and spent.uses == 0
