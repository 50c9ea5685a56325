"""Per-client policies through ``ClientAdmin``: public clients and PKCE, token lifetimes,
allowed scopes and skipped consent.
"""

from __future__ import annotations

import time

import jwt
import pytest
import webtest

from oidc_core import Provider
from tests.support.client_admin import ACTOR, CB, _tokens, assert_error, create, sql, userinfo
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token

# -- public clients --------------------------------------------------------------------------


def test_public_client_needs_pkce_and_no_secret(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    client, secret = provider.clients.create(
        {"client_name": "SPA", "redirect_uris": [CB], "token_endpoint_auth_method": "none"},
        ACTOR,
    )
    assert secret is None and client.is_public and client.require_pkce
    rp = RP(client.client_id, "", [CB])
    flow = Flow(app, rp, alice)

    refused = flow.start(state="s1")
    assert refused.status_int == 302
    query = query_of(refused.headers["Location"])
    assert refused.headers["Location"].startswith(CB + "?")
    assert (query["error"], query["state"], query["iss"]) == ("invalid_request", "s1", flow.issuer)

    nonce = "n-0S6_WzA2Mj"
    code = flow.code_with_pkce(nonce=nonce)
    assert_error(flow.token(code, auth="none"), 401, "invalid_client")  # not even a client_id
    assert_error(flow.token(code, auth="none", client_id=rp.client_id, code_verifier=None), 400,
                 "invalid_grant")  # fmt: skip
    response = flow.token(code, auth="none", client_id=rp.client_id)
    assert response.status_int == 200, response.text
    body = response.json
    assert body["token_type"] == "Bearer"
    claims = verify_id_token(app, body["id_token"], rp.client_id)
    assert claims["sub"] == alice.subject and claims["nonce"] == nonce
    assert userinfo(app, body["access_token"]).json["sub"] == alice.subject


@pytest.mark.parametrize("secret", ["anything", "", "x" * 43])
@pytest.mark.parametrize("auth", ["basic", "post"])
def test_public_client_presenting_a_secret_is_refused(
    app: webtest.TestApp, provider: Provider, alice: Account, secret: str, auth: str
) -> None:
    rp = create(provider, token_endpoint_auth_method="none")
    flow = Flow(app, RP(rp.client_id, secret, rp.redirect_uris), alice)
    code = flow.code_with_pkce()
    assert_error(flow.token(code, auth=auth), 401, "invalid_client")
    # the code was not consumed by the refusals
    assert flow.token(code, auth="none", client_id=rp.client_id).status_int == 200


def test_confidential_client_without_a_secret_is_refused(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert_error(flow.token(code, auth="none", client_id=flow.client.client_id), 401,
                 "invalid_client")  # fmt: skip
    flow.verifier = None
    assert flow.token(code).status_int == 200


def test_switching_between_public_and_confidential(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider)
    old_secret = rp.client_secret
    provider.clients.update(rp.client_id, {"token_endpoint_auth_method": "none"}, ACTOR)
    row = sql(
        provider,
        "SELECT secret_digest, is_public, require_pkce FROM oidc_client WHERE client_id = ?",
        rp.client_id,
    )[0]
    assert row[0] == "" and row[1] and row[2]
    flow = Flow(app, rp, alice)
    code = flow.code_with_pkce()
    assert_error(flow.token(code), 401, "invalid_client")  # the old secret died with the switch
    assert flow.token(code, auth="none", client_id=rp.client_id).status_int == 200

    updated = provider.clients.update(
        rp.client_id, {"token_endpoint_auth_method": "client_secret_basic"}, ACTOR
    )
    assert not updated.is_public
    # No secret works until one is issued: not the old one, not an empty one.
    code = flow.code_with_pkce()
    for candidate in (old_secret, ""):
        flow.client.client_secret = candidate
        assert_error(flow.token(code), 401, "invalid_client")
    assert_error(flow.token(code, auth="none", client_id=rp.client_id), 401, "invalid_client")
    flow.client.client_secret = provider.clients.reset_secret(rp.client_id, ACTOR)
    assert flow.token(code).status_int == 200


# -- per-client lifetimes ------------------------------------------------------------------------


def test_per_client_token_lifetimes(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    short = create(provider, client_name="Short", access_token_ttl=120, id_token_ttl=300)
    default = create(provider, client_name="Default", access_token_ttl=None, id_token_ttl=None)
    assert provider.settings.access_token_ttl == provider.settings.id_token_ttl == 3600

    for rp, access_ttl, id_ttl in ((short, 120, 300), (default, 3600, 3600)):
        before = int(time.time())
        body = _tokens(app, rp, alice)
        after = int(time.time())
        assert body["expires_in"] == access_ttl
        claims = verify_id_token(app, body["id_token"], rp.client_id)
        assert claims["exp"] - claims["iat"] == id_ttl
        ((expires_at, created_at),) = sql(
            provider,
            "SELECT t.expires_at, t.created_at FROM oidc_access_token t "
            "JOIN oidc_client c ON c.id = t.client_id WHERE c.client_id = ?",
            rp.client_id,
        )
        assert expires_at - created_at == access_ttl
        assert before + access_ttl <= expires_at <= after + access_ttl

    provider.clients.update(short.client_id, {"access_token_ttl": None}, ACTOR)
    body = _tokens(app, short, alice)
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300  # the other lifetime is kept


def test_an_expired_short_lived_token_is_refused(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider, access_token_ttl=60)
    token = _tokens(app, rp, alice)["access_token"]
    assert userinfo(app, token).status_int == 200
    provider.storage.database.execute_sql(
        f"UPDATE oidc_access_token SET expires_at = {int(time.time()) - 1}"
    )
    assert userinfo(app, token).status_int == 401


# -- allowed scopes and consent -------------------------------------------------------------


def test_allowed_scopes_limit_what_is_granted(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    rp = create(provider, scope="openid email")
    flow = Flow(app, rp, alice, scope="openid profile email")
    body = flow.token(flow.authorize()["code"]).json
    assert body["scope"].split() == ["openid", "email"]
    info = userinfo(app, body["access_token"]).json
    assert info["email"] == alice.email and info["email_verified"] is True
    assert not {"name", "given_name", "family_name", "preferred_username", "locale"} & set(info)
    claims = verify_id_token(app, body["id_token"], rp.client_id)
    assert "name" not in claims


def test_skip_consent_issues_a_code_without_a_consent_page(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    first_party = create(provider, client_name="First party", skip_consent=True)
    third_party = create(provider, client_name="Third party")
    flow = Flow(app, first_party, alice)
    login_page = app.get(flow.start().headers["Location"])
    after_login = flow.login(login_page)
    assert after_login.status_int in (302, 303)
    assert after_login.headers["Location"].startswith(CB + "?")  # no consent page
    assert "code" in query_of(after_login.headers["Location"])

    again = flow.start()  # logged in: straight back with a code
    assert again.status_int == 302 and "code" in query_of(again.headers["Location"])
    assert flow.token(query_of(again.headers["Location"])["code"]).status_int == 200

    other = Flow(app, third_party, alice).start()  # same browser, an ordinary client
    assert other.status_int in (302, 303)
    assert "/consent" in other.headers["Location"]

    provider.clients.update(first_party.client_id, {"skip_consent": False}, ACTOR)
    assert "/consent" in flow.start().headers["Location"]
