"""Cross-origin requests for single-page apps (``docs/protocol.md``, "Cross-origin requests").

A public client's web origins (those of its redirect URIs) may read the token, userinfo and
revocation responses; discovery and the JWK Set are readable by anyone; the authorization
endpoint, login, consent and administration never carry CORS headers (SECURITY-CHECKLIST
R-CO-1, T-77).  CORS is not authentication: every request works as without ``Origin``.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import webtest

from oidc_core.storage import Storage
from oidc_core.testing import pkce_pair
from tests.conftest import make_client
from tests.support.flow import RP, Account, Flow, hidden, verify_id_token

SPA = "https://spa.example"
OTHER_SPA = "http://127.0.0.1:5173"
EVIL = "https://evil.example"
ACAO = "Access-Control-Allow-Origin"


@pytest.fixture
def spa(storage: Storage) -> RP:
    return make_client(
        storage,
        "SPA",
        [SPA + "/callback", SPA + ":443/silent"],
        is_public=True,
        allowed_scopes="openid profile email offline_access",
        grant_types=("authorization_code", "refresh_token"),
    )


@pytest.fixture
def other_spa(storage: Storage) -> RP:
    return make_client(storage, "Other SPA", [OTHER_SPA + "/cb"], is_public=True)


def _no_cors(response: webtest.TestResponse) -> None:
    assert not [h for h in response.headers if h.lower().startswith("access-control-")], (
        response.headers
    )


def _cors_for(response: webtest.TestResponse, origin: str) -> None:
    assert response.headers[ACAO] == origin
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def _exchange(
    app: webtest.TestApp, spa: RP, alice: Account, origin: str | None
) -> tuple[webtest.TestResponse, Flow]:
    flow = Flow(app, spa, alice, scope="openid profile offline_access")
    code = flow.code_with_pkce()
    headers = {"Origin": origin} if origin else {}
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": spa.redirect_uris[0],
        "code_verifier": flow.verifier or "",
        "client_id": spa.client_id,
    }
    return app.post("/token", data, headers=headers, expect_errors=True), flow


def test_spa_origin_reads_the_token_response_of_a_pkce_exchange(
    app: webtest.TestApp, spa: RP, alice: Account
) -> None:
    response, _ = _exchange(app, spa, alice, SPA)
    assert response.status_int == 200, response.text
    _cors_for(response, SPA)
    assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]
    verify_id_token(app, response.json["id_token"], spa.client_id)


def test_foreign_origin_gets_no_cors_and_the_exchange_still_works(
    app: webtest.TestApp, spa: RP, alice: Account
) -> None:
    response, _ = _exchange(app, spa, alice, EVIL)
    assert response.status_int == 200, response.text
    assert ACAO not in response.headers
    assert "Origin" in response.headers["Vary"]
    verify_id_token(app, response.json["id_token"], spa.client_id)


def test_another_clients_origin_gets_no_cors_on_this_clients_token_request(
    app: webtest.TestApp, spa: RP, other_spa: RP, alice: Account
) -> None:
    response, _ = _exchange(app, spa, alice, OTHER_SPA)
    assert response.status_int == 200, response.text
    assert ACAO not in response.headers


def test_a_confidential_clients_origin_gets_no_cors(
    app: webtest.TestApp, client_a: RP, alice: Account
) -> None:
    flow = Flow(app, client_a, alice)
    code = flow.authorize()["code"]
    response = flow.app.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client_a.redirect_uris[0],
            "client_id": client_a.client_id,
            "client_secret": client_a.client_secret,
        },
        headers={"Origin": "https://rp.example"},
    )
    assert response.status_int == 200
    assert ACAO not in response.headers


def test_invalid_grant_is_readable_by_the_spa(
    app: webtest.TestApp, spa: RP, alice: Account
) -> None:
    first, flow = _exchange(app, spa, alice, SPA)
    assert first.status_int == 200
    data = {
        "grant_type": "authorization_code",
        "code": "not-a-code",
        "redirect_uri": spa.redirect_uris[0],
        "code_verifier": flow.verifier or "",
        "client_id": spa.client_id,
    }
    for origin, readable in ((SPA, True), (EVIL, False), (OTHER_SPA, False)):
        response = app.post("/token", data, headers={"Origin": origin}, expect_errors=True)
        assert response.status_int == 400
        assert response.json["error"] == "invalid_grant"
        assert (response.headers.get(ACAO) == origin) is readable, (origin, response.headers)
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_errors_without_a_known_client_are_readable_by_registered_origins_only(
    app: webtest.TestApp, spa: RP
) -> None:
    data = {"grant_type": "authorization_code", "code": "x", "client_id": "nobody"}
    for origin, readable in ((SPA, True), (EVIL, False)):
        response = app.post("/token", data, headers={"Origin": origin}, expect_errors=True)
        assert response.status_int == 401
        assert response.json["error"] == "invalid_client"
        assert (ACAO in response.headers) is readable
    duplicated = app.post(
        "/token",
        "grant_type=a&grant_type=b",
        headers={"Origin": SPA, "Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert duplicated.status_int == 400
    _cors_for(duplicated, SPA)


def test_userinfo_and_revocation_for_the_spa_origin(
    app: webtest.TestApp, spa: RP, other_spa: RP, alice: Account
) -> None:
    response, _ = _exchange(app, spa, alice, SPA)
    tokens = response.json
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    info = app.get("/userinfo", headers={**bearer, "Origin": SPA})
    assert info.json["sub"] == alice.subject
    _cors_for(info, SPA)
    for origin in (EVIL, OTHER_SPA):
        info = app.get("/userinfo", headers={**bearer, "Origin": origin})
        assert info.json["sub"] == alice.subject
        assert ACAO not in info.headers
        assert "Origin" in info.headers["Vary"]
    posted = app.post(
        "/userinfo", {"access_token": tokens["access_token"]}, headers={"Origin": SPA}
    )
    _cors_for(posted, SPA)
    bad = app.get("/userinfo", headers={"Authorization": "Bearer nope", "Origin": SPA}, status=401)
    _cors_for(bad, SPA)
    assert "invalid_token" in bad.headers["WWW-Authenticate"]
    assert (
        ACAO
        not in app.get(
            "/userinfo", headers={"Authorization": "Bearer nope", "Origin": EVIL}, status=401
        ).headers
    )

    revoke = {"token": tokens["refresh_token"], "client_id": spa.client_id}
    foreign = app.post("/revoke", revoke, headers={"Origin": OTHER_SPA})
    assert foreign.status_int == 200 and ACAO not in foreign.headers
    # CORS is not authentication: the foreign-origin revocation did revoke the grant.
    assert app.get("/userinfo", headers=bearer, status=401)
    revoked = app.post("/revoke", revoke, headers={"Origin": SPA})
    assert revoked.status_int == 200
    _cors_for(revoked, SPA)


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/jwks"])
def test_discovery_and_jwks_are_public(app: webtest.TestApp, path: str) -> None:
    for headers in ({}, {"Origin": EVIL}):
        response = app.get(path, headers=headers)
        assert response.headers[ACAO] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = app.options(
        path, headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"}, status=204
    )
    assert preflight.headers[ACAO] == "*"


@pytest.mark.parametrize(
    ("path", "method"), [("/token", "POST"), ("/userinfo", "GET"), ("/revoke", "POST")]
)
def test_preflight_for_a_registered_origin_only(
    app: webtest.TestApp, spa: RP, path: str, method: str
) -> None:
    asks = {
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization",
    }
    ok = app.options(path, headers={"Origin": SPA, **asks}, status=204)
    _cors_for(ok, SPA)
    assert method in ok.headers["Access-Control-Allow-Methods"]
    assert ok.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert int(ok.headers["Access-Control-Max-Age"]) > 0
    for origin in (EVIL, "null", SPA + ":8443", "http://spa.example"):
        refused = app.options(path, headers={"Origin": origin, **asks}, expect_errors=True)
        assert refused.status_int == 405
        _no_cors(refused)
    wrong_method = {"Origin": SPA, "Access-Control-Request-Method": "DELETE"}
    _no_cors(app.options(path, headers=wrong_method, expect_errors=True))


def test_no_cors_on_authorize_login_consent_and_admin(
    app: webtest.TestApp, spa: RP, alice: Account
) -> None:
    origin = {"Origin": SPA}
    _, challenge = pkce_pair()
    params = Flow(app, spa, alice).authorize_params(
        code_challenge=challenge, code_challenge_method="S256"
    )
    start = app.get("/authorize?" + urlencode(params), headers=origin)
    _no_cors(start)
    login_page = app.get(start.headers["Location"], headers=origin)
    _no_cors(login_page)
    consent = app.post(
        "/login",
        {
            "interaction": hidden(login_page, "interaction"),
            "csrf_token": hidden(login_page, "csrf_token"),
            "email": alice.email,
            "password": alice.password,
        },
        headers=origin,
    )
    _no_cors(consent)
    consent_page = app.get(consent.headers["Location"], headers=origin)
    _no_cors(consent_page)
    for path in ("/authorize", "/login", "/consent", "/admin/", "/admin/api/clients"):
        for method in ("GET", "OPTIONS"):
            response = app.request(
                app._provider_url(path),
                method=method,
                headers={**origin, "Access-Control-Request-Method": "POST"},
                expect_errors=True,
            )
            _no_cors(response)
