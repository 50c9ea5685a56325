"""Pairwise subject identifiers (OpenID Connect Core 1.0 section 8.1), end to end.

Clients are created through the management API; every ``sub`` is read the way a relying
party reads it: the ID token verified with PyJWT, UserInfo, introspection, a JWT access
token verified with PyJWT against the JWKS, a logout token received over HTTP.  The
conformance modules ``oidcc-registration-sector-uri`` and ``oidcc-registration-sector-bad``
register through ``/register`` (``test_conformance_registration.py``); here the same rules
through the management API.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import webtest

from oidc_core import Provider, keys
from oidc_core.storage import Storage
from tests.flows.test_logout import still_signed_in
from tests.support.admin_api import CLIENTS, Api, error_of, response_json
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.conformance_basic_op import id_token_of
from tests.support.flow import RP, Account, Flow, issuer_of, query_of
from tests.support.key_rotation import saved_keys as saved_keys
from tests.support.receiver import Receiver
from tests.support.sector_server import SectorServer
from tests.support.sector_server import sector_server as sector_server

PAIRWISE_SUB = re.compile(r"[A-Za-z0-9_-]{43}")  # HMAC-SHA-256, base64url without padding


def pairwise_client(admin: Api, redirect_uris: list[str], **metadata: Any) -> RP:
    created = admin.create(
        client_name="Pairwise RP",
        redirect_uris=redirect_uris,
        scope="openid profile email",
        subject_type="pairwise",
        **metadata,
    )
    assert created["subject_type"] == "pairwise", created
    return RP(created["client_id"], created["client_secret"], redirect_uris)


def signed_in_sub(app: webtest.TestApp, rp: RP, user: Account) -> dict[str, Any]:
    """A fresh sign-in of ``user`` at ``rp``: the ID token's claims (PyJWT-verified)."""
    flow = Flow(app, rp, user)
    return id_token_of(flow, flow.authorize())


def test_pairwise_subs_differ_between_sectors_and_agree_within_one(
    app: webtest.TestApp, admin: Api, alice: Account, bob: Account
) -> None:
    a1 = pairwise_client(admin, ["https://a.example/cb"])
    a2 = pairwise_client(admin, ["https://A.example/other", "https://a.example:8443/cb"])
    b = pairwise_client(admin, ["https://b.example/cb"])
    public = admin.create(client_name="Public RP", redirect_uris=["https://a.example/pub"])
    public_rp = RP(public["client_id"], public["client_secret"], ["https://a.example/pub"])

    subs = {rp.client_id: signed_in_sub(app.new_browser(), rp, alice)["sub"] for rp in (a1, a2, b)}
    assert subs[a1.client_id] == subs[a2.client_id]  # one sector: a.example (any port, case)
    assert subs[a1.client_id] != subs[b.client_id]
    for sub in subs.values():
        assert PAIRWISE_SUB.fullmatch(sub) and sub != alice.subject
    assert signed_in_sub(app.new_browser(), public_rp, alice)["sub"] == alice.subject
    assert signed_in_sub(app.new_browser(), a1, bob)["sub"] not in (subs[a1.client_id], bob.subject)


@pytest.fixture
def everywhere_client(admin: Api, receiver: Receiver) -> RP:
    return pairwise_client(
        admin,
        ["https://rp.example/cb"],
        access_token_format="jwt",
        backchannel_logout_uri=receiver.uri("/bc"),
        post_logout_redirect_uris=["https://rp.example/bye"],
    )


def verify_jwt(app: webtest.TestApp, token: str, audience: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    key = next(k for k in app.get("/jwks").json["keys"] if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=[header["alg"]],
        audience=audience,
        issuer=issuer_of(app),
        options={"require": ["sub"]},
    )
    return claims


def test_pairwise_sub_is_the_same_in_every_token_and_answer(
    app: webtest.TestApp, everywhere_client: RP, alice: Account, receiver: Receiver
) -> None:
    rp = everywhere_client
    flow = Flow(app, rp, alice)
    claims = id_token_of(flow, flow.authorize())
    sub = claims["sub"]
    assert PAIRWISE_SUB.fullmatch(sub) and sub != alice.subject

    access_token = claims["_access_token"]
    at_claims = verify_jwt(app, access_token, issuer_of(app) + "/userinfo")
    assert at_claims["sub"] == sub
    info = app.get("/userinfo", headers={"Authorization": "Bearer " + access_token}).json
    assert info["sub"] == sub and info["email"] == alice.email
    introspected = app.post(
        "/introspect",
        {"token": access_token},
        headers={"Authorization": basic_of(rp)},
    ).json
    assert introspected["active"] is True and introspected["sub"] == sub

    response = app.get("/end_session?" + urlencode({"id_token_hint": claims["_raw"]}))
    assert response.status_int in (200, 303), response.status
    receiver.wait_for(1)
    [logout_token] = receiver.tokens("/bc")
    assert verify_jwt(app, logout_token, rp.client_id)["sub"] == sub


def basic_of(rp: RP) -> str:
    return "Basic " + base64.b64encode(f"{rp.client_id}:{rp.client_secret}".encode()).decode()


def test_pairwise_sub_survives_secret_reset_key_rotation_and_redirect_edits(
    app: webtest.TestApp, admin: Api, alice: Account, storage: Storage, provider: Provider
) -> None:
    rp = pairwise_client(admin, ["https://rp.example/cb"])
    sub = signed_in_sub(app.new_browser(), rp, alice)["sub"]

    reset = response_json(
        admin.call("PATCH", f"{CLIENTS}/{rp.client_id}", {"reset_secret": True}, status=200)
    )
    rp = RP(rp.client_id, reset["client_secret"], rp.redirect_uris)
    assert signed_in_sub(app.new_browser(), rp, alice)["sub"] == sub

    before = [k.kid for k in storage.keys.all() if k.state == "current"]
    keys.rotate(storage, "RS256", min_next_age=0)
    keys.rotate(storage, "RS256", min_next_age=0)
    provider.keys.invalidate()
    after = signed_in_sub(app.new_browser(), rp, alice)
    assert after["sub"] == sub
    assert [k.kid for k in storage.keys.all() if k.state == "current"] != before

    moved = ["https://rp.example/new-cb", "https://rp.example:8443/cb"]
    changed = admin.call("PATCH", f"{CLIENTS}/{rp.client_id}", {"redirect_uris": moved}, status=200)
    assert response_json(changed)["redirect_uris"] == moved
    rp = RP(rp.client_id, rp.client_secret, moved)
    assert signed_in_sub(app.new_browser(), rp, alice)["sub"] == sub


def test_redirect_uris_leaving_the_sector_are_refused_and_nothing_changes(
    admin: Api, provider: Provider
) -> None:
    rp = pairwise_client(admin, ["https://rp.example/cb"])
    before = admin.get(rp.client_id)
    response = admin.call(
        "PATCH",
        f"{CLIENTS}/{rp.client_id}",
        {"redirect_uris": ["https://elsewhere.example/cb"]},
        status=400,
    )
    body = error_of(response)
    assert body["error"] == "invalid_client_metadata" and body["field"] == "sector_identifier_uri"
    assert "rp.example" in body["error_description"]
    assert admin.get(rp.client_id) == before
    assert provider.clients.get(rp.client_id).sector_identifier == "rp.example"


def test_id_token_hint_with_a_pairwise_sub_at_authorize_prompt_none(
    app: webtest.TestApp, admin: Api, alice: Account, bob: Account
) -> None:
    rp = pairwise_client(admin, ["https://rp.example/cb"])
    flow = Flow(app, rp, alice)
    hint = id_token_of(flow, flow.authorize())["_raw"]
    answered = query_of(flow.start(prompt="none", id_token_hint=hint).headers["Location"])
    assert "code" in answered, answered

    bobs_hint = signed_in_sub(app.new_browser(), rp, bob)["_raw"]
    refused = query_of(flow.start(prompt="none", id_token_hint=bobs_hint).headers["Location"])
    assert refused.get("error") == "login_required", refused


def test_id_token_hint_with_a_pairwise_sub_at_end_session(
    app: webtest.TestApp, admin: Api, alice: Account
) -> None:
    rp = pairwise_client(admin, ["https://rp.example/cb"])
    flow = Flow(app, rp, alice)
    hint = id_token_of(flow, flow.authorize())["_raw"]
    assert still_signed_in(flow)
    response = app.get("/end_session?" + urlencode({"id_token_hint": hint}))
    assert response.status_int == 200 and 'name="decision"' not in response.text  # no question
    assert not still_signed_in(flow)


def test_a_sector_uri_listing_the_redirect_uris_makes_one_sector(
    app: webtest.TestApp, admin: Api, alice: Account, sector_server: SectorServer
) -> None:
    redirects = ["https://rp-one.example/cb", "https://rp-two.example/cb"]
    uri = sector_server.serve("/sector.json", [*redirects, "https://other.example/cb"])
    rp = pairwise_client(admin, redirects, sector_identifier_uri=uri)
    assert admin.get(rp.client_id)["sector_identifier_uri"] == uri
    assert sector_server.gets == ["/sector.json"]
    first = signed_in_sub(app.new_browser(), rp, alice)
    assert PAIRWISE_SUB.fullmatch(first["sub"]) and first["sub"] != alice.subject
    by_the_other_uri = RP(rp.client_id, rp.client_secret, redirects[::-1])
    assert signed_in_sub(app.new_browser(), by_the_other_uri, alice)["sub"] == first["sub"]
    # Another client of the same sector (127.0.0.1, the document's host) sees the same sub.
    uri_two = sector_server.serve("/two.json", ["https://rp-three.example/cb"])
    other = pairwise_client(admin, ["https://rp-three.example/cb"], sector_identifier_uri=uri_two)
    assert signed_in_sub(app.new_browser(), other, alice)["sub"] == first["sub"]


def test_a_sector_document_without_the_redirect_uri_is_refused(
    admin: Api, provider: Provider, sector_server: SectorServer
) -> None:
    uri = sector_server.serve("/sector.json", ["https://other.example/cb"])
    count = len(provider.clients.search())
    response = admin.call(
        "POST",
        CLIENTS,
        {
            "client_name": "Bad sector",
            "redirect_uris": ["https://rp.example/cb"],
            "subject_type": "pairwise",
            "sector_identifier_uri": uri,
        },
        status=400,
    )
    body = error_of(response)
    assert body["error"] == "invalid_client_metadata", body
    assert body["field"] == "sector_identifier_uri"
    assert "https://rp.example/cb" in body["error_description"]
    assert len(provider.clients.search()) == count


def test_discovery_advertises_public_and_pairwise(app: webtest.TestApp) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["subject_types_supported"] == ["public", "pairwise"]
