"""The code at the token endpoint: PKCE (T-31, T-32), reuse (T-33, T-34), its client
(T-35), ``redirect_uri`` (T-36), expiry (T-37) and the openid scope (T-38).

A failed token request never consumes the code (``oidc_core.oauth.code_grant``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

import pytest
import webtest

from oidc_core import Provider
from tests.support.flow import RP, Flow, pkce_pair, query_of
from tests.support.token_endpoint import assert_error


def expire_all_codes(provider: Provider) -> None:
    past = int(time.time()) - 1
    provider.storage.database.execute_sql(f"UPDATE oidc_authorization_code SET expires_at = {past}")


def userinfo_status(app: webtest.TestApp, access_token: str) -> int:
    return app.get(
        "/userinfo", headers={"Authorization": "Bearer " + access_token}, expect_errors=True
    ).status_int


# -- T-31 PKCE verifier -------------------------------------------------------------------


def test_t31_missing_verifier_is_invalid_grant_and_code_survives(flow: Flow) -> None:
    # R-PK-2 and the FAPI ensure-pkce-code-verifier-required test: invalid_grant (oauthlib's
    # own MissingCodeVerifierError would say invalid_request).
    code = flow.code_with_pkce()
    assert_error(flow.token(code, code_verifier=None), 400, "invalid_grant")
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize(
    "verifier",
    [
        pytest.param(secrets.token_urlsafe(48), id="another-valid-verifier"),
        pytest.param("a" * 42, id="too-short"),
        pytest.param("a" * 129, id="too-long"),
        pytest.param("+/=" * 15, id="reserved-characters"),
        pytest.param("", id="empty"),
        pytest.param("\u00e9" * 43, id="non-ascii"),
    ],
)
def test_t31_wrong_verifier_is_invalid_grant_and_code_survives(flow: Flow, verifier: str) -> None:
    code = flow.code_with_pkce()
    assert_error(flow.token(code, code_verifier=verifier), 400, "invalid_grant")
    assert flow.token(code).status_int == 200


def test_t31_verifier_with_bad_syntax_is_refused_even_when_it_hashes_to_the_challenge(
    flow: Flow,
) -> None:
    flow.verifier = "a" * 42  # RFC 7636 4.1: at least 43 characters
    challenge = base64.urlsafe_b64encode(hashlib.sha256(flow.verifier.encode()).digest())
    code = flow.authorize(
        code_challenge=challenge.rstrip(b"=").decode(), code_challenge_method="S256"
    )["code"]
    assert_error(flow.token(code), 400, "invalid_grant")


def test_t31_verifier_of_another_code_is_invalid_grant(flow: Flow) -> None:
    first = flow.code_with_pkce()
    first_verifier = flow.verifier
    second = flow.code_with_pkce()
    assert_error(flow.token(second, code_verifier=first_verifier), 400, "invalid_grant")
    assert flow.token(second).status_int == 200
    assert flow.token(first, code_verifier=first_verifier).status_int == 200


# -- T-32 PKCE downgrade ---------------------------------------------------------------


def test_t32_verifier_for_a_code_issued_without_challenge_is_invalid_grant(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert_error(flow.token(code, code_verifier=pkce_pair()[0]), 400, "invalid_grant")
    assert flow.token(code).status_int == 200


# -- T-33 / T-34 code reuse --------------------------------------------------------------


def test_t33_second_redemption_is_invalid_grant(flow: Flow) -> None:
    code = flow.code_with_pkce()
    assert flow.token(code).status_int == 200
    assert_error(flow.token(code), 400, "invalid_grant")


def test_t34_second_redemption_revokes_the_first_access_token(flow: Flow) -> None:
    code = flow.authorize()["code"]
    access_token = flow.token(code).json["access_token"]
    assert userinfo_status(flow.app, access_token) == 200
    assert_error(flow.token(code, auth="post"), 400, "invalid_grant")
    response = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + access_token}, expect_errors=True
    )
    assert response.status_int == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_t34_another_client_replaying_the_code_does_not_revoke_its_tokens(
    flow: Flow, client_a: RP, client_b: RP
) -> None:
    code = flow.authorize()["code"]
    access_token = flow.token(code).json["access_token"]
    thief = Flow(flow.app, client_b, flow.user)
    assert_error(thief.token(code, redirect_uri=client_a.redirect_uris[0]), 400, "invalid_grant")
    assert userinfo_status(flow.app, access_token) == 200


# -- T-35 code bound to its client -----------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_t35_another_client_cannot_redeem_the_code(
    flow: Flow, client_a: RP, client_b: RP, auth: str
) -> None:
    code = flow.code_with_pkce()
    thief = Flow(flow.app, client_b, flow.user, verifier=flow.verifier)
    response = thief.token(code, auth=auth, redirect_uri=client_a.redirect_uris[0])
    assert_error(response, 400, "invalid_grant")
    assert flow.token(code).status_int == 200


# -- T-36 redirect_uri ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        pytest.param("https://rp.example/cb2?x=1", id="other-registered-uri"),
        pytest.param(None, id="omitted"),
        pytest.param("", id="empty"),
        pytest.param("https://rp.example/cb/", id="extra-slash"),
        pytest.param("https://rp.example//cb", id="double-slash"),
        pytest.param("https://RP.example/cb", id="other-case"),
        pytest.param("https://rp.example/cb?", id="empty-query"),
        pytest.param("https://rp-b.example/cb", id="other-clients-uri"),
    ],
)
def test_t36_redirect_uri_must_be_the_one_of_the_authorization_request(
    flow: Flow, redirect_uri: str | None
) -> None:
    code = flow.authorize()["code"]
    assert_error(flow.token(code, redirect_uri=redirect_uri), 400, "invalid_grant")
    assert flow.token(code).status_int == 200


def test_t36_redirect_uri_with_a_query_is_matched_exactly(flow: Flow) -> None:
    uri = flow.client.redirect_uris[1]
    code = flow.authorize(redirect_uri=uri)["code"]
    assert_error(flow.token(code), 400, "invalid_grant")  # the first registered URI
    assert flow.token(code, redirect_uri=uri).status_int == 200


# -- T-37 expired code -------------------------------------------------------------------------


def test_t37_expired_code_is_invalid_grant(flow: Flow, provider: Provider) -> None:
    code = flow.code_with_pkce()
    expire_all_codes(provider)
    assert_error(flow.token(code), 400, "invalid_grant")
    used = provider.storage.database.execute_sql(
        "SELECT COUNT(*) FROM oidc_authorization_code WHERE used_at IS NOT NULL"
    ).fetchone()[0]
    assert used == 0


def test_t37_code_lifetime_is_at_most_a_minute(flow: Flow, provider: Provider) -> None:
    flow.authorize()
    created, expires = provider.storage.database.execute_sql(
        "SELECT created_at, expires_at FROM oidc_authorization_code"
    ).fetchone()
    assert 0 < expires - created <= 60


# -- T-38 OpenID Connect only --------------------------------------------------------------------


def test_t38_no_code_is_issued_without_the_openid_scope(flow: Flow, provider: Provider) -> None:
    response = flow.start(scope="profile email")
    assert response.status_int == 302
    callback = query_of(response.headers["Location"])
    assert callback["error"] == "invalid_scope"
    assert "code" not in callback
    codes = provider.storage.database.execute_sql(
        "SELECT COUNT(*) FROM oidc_authorization_code"
    ).fetchone()[0]
    assert codes == 0
