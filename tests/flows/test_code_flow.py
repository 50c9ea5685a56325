"""The authorization code flow end to end (OIDC Core 3.1), as a browser and an RP see it."""

from __future__ import annotations

import time

from tests.support.flow import Flow, verify_id_token


def test_full_flow_with_pkce_issues_verifiable_id_token(flow: Flow) -> None:
    callback = flow.authorize(nonce="n-0S6_WzA2Mj", state="af0ifjsldkj")
    assert callback["state"] == "af0ifjsldkj"
    assert callback["iss"] == flow.issuer
    response = flow.token(callback["code"])
    assert response.status_int == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_type == "application/json"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert set(body["scope"].split()) == {"openid", "profile", "email"}
    assert "refresh_token" not in body
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    assert claims["sub"] == flow.user.subject
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["exp"] > claims["iat"]
    assert claims["auth_time"] <= claims["iat"]
    assert "at_hash" in claims

    info = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    ).json
    assert info == {
        "sub": flow.user.subject,
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "preferred_username": "alice",
        "locale": "en-GB",
        "updated_at": info["updated_at"],
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_pkce_code_exchange(flow: Flow) -> None:
    code = flow.code_with_pkce()
    assert flow.token(code).status_int == 200


def test_client_secret_post(flow: Flow) -> None:
    code = flow.authorize()["code"]
    response = flow.token(code, auth="post")
    assert response.status_int == 200
    verify_id_token(flow.app, response.json["id_token"], flow.client.client_id)


def test_no_nonce_means_no_nonce_claim(flow: Flow) -> None:
    code = flow.authorize(nonce=None)["code"]
    claims = verify_id_token(flow.app, flow.token(code).json["id_token"], flow.client.client_id)
    assert "nonce" not in claims


def test_consent_is_remembered_and_login_is_not_asked_twice(flow: Flow) -> None:
    flow.authorize()
    response = flow.start(scope="openid email")
    assert response.status_int == 302
    assert response.headers["Location"].startswith("https://rp.example/cb?code=")


def test_new_scope_asks_consent_again(flow: Flow) -> None:
    flow.authorize(scope="openid")
    response = flow.start(scope="openid email")
    assert response.status_int == 303
    assert "/consent?" in response.headers["Location"]


def test_reference_system_aliases(flow: Flow) -> None:
    app = flow.app
    assert (
        app.get("/oauth/openid-configuration.php").json
        == app.get("/.well-known/openid-configuration").json
    )
    assert app.get("/oauth/certs.php").json == app.get("/jwks").json
    callback = flow.authorize()
    creds = (flow.client.client_id, flow.client.client_secret)
    app.authorization = ("Basic", creds)
    token = app.post(
        "/oauth/token.php",
        {
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": flow.client.redirect_uris[0],
        },
    ).json
    app.authorization = None
    info = app.get(
        "/oauth/userinfo.php", headers={"Authorization": "Bearer " + token["access_token"]}
    )
    assert info.json["sub"] == flow.user.subject
    response = app.get(
        "/oauth/authorize.php?" + "&".join(f"{k}={v}" for k, v in flow.authorize_params().items())
    )
    assert response.status_int == 302
