"""The token endpoint's code exchange (SECURITY-CHECKLIST section C, T-31 .. T-46).

Policy (documented in ``oidc_core.oauth.code_grant``): a failed token request never
consumes the code, so after every refusal below the right request still succeeds.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable

import jwt
import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage.models import ALL_MODELS
from tests.support.flow import RP, Flow, pkce_pair, query_of, verify_id_token

ERROR_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")
ACCESS_TOKEN = re.compile(r"[A-Za-z0-9_-]{43,}")
BASIC_CHALLENGE = 'Basic realm="oidc-core"'


def assert_error(response: webtest.TestResponse, status: int, error: str) -> None:
    """An RFC 6749 5.2 error: status, JSON, no-store, a code and a clean description."""
    assert response.status_int == status, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["error"] == error, response.json
    assert ERROR_DESCRIPTION.fullmatch(response.json.get("error_description", ""))


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def post_token(app: webtest.TestApp, data: object, **kwargs: object) -> webtest.TestResponse:
    return app.post("/token", data, expect_errors=True, **kwargs)


def expire_all_codes(provider: Provider) -> None:
    past = int(time.time()) - 1
    provider.storage.database.execute_sql(f"UPDATE oidc_authorization_code SET expires_at = {past}")


def all_stored_text(provider: Provider) -> str:
    """Every cell of every table, as text, for looking for credentials in the clear."""
    db = provider.storage.database
    cells = []
    for model in ALL_MODELS:
        for row in db.execute_sql(f"SELECT * FROM {model._meta.table_name}").fetchall():
            cells.extend(str(cell) for cell in row)
    return "\n".join(cells)


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


# -- T-39 bad code values ------------------------------------------------------------------------

BAD_CODES: list[tuple[str, Callable[[str], str], str]] = [
    ("random", lambda code: secrets.token_urlsafe(32), "invalid_grant"),
    ("truncated", lambda code: code[:-1], "invalid_grant"),
    ("extended", lambda code: code + "A", "invalid_grant"),
    ("other-case", lambda code: code.swapcase(), "invalid_grant"),
    ("empty", lambda code: "", "invalid_grant"),
    ("non-ascii", lambda code: "\u00e9\u4e2d\U0001f600" * 10, "invalid_grant"),
    ("lone-surrogate-escape", lambda code: code + "%ED%A0%80", "invalid_grant"),
    ("10-KiB", lambda code: "a" * 10 * 1024, "invalid_request"),
    ("nul", lambda code: code + "\x00", "invalid_request"),
    ("only-nul", lambda code: "\x00", "invalid_request"),
    ("crlf", lambda code: code + "\r\n", "invalid_grant"),
]


@pytest.mark.parametrize(
    ("make_code", "error"),
    [pytest.param(make, error, id=name) for name, make, error in BAD_CODES],
)
def test_t39_bad_code_value_is_refused_without_5xx(
    flow: Flow, make_code: Callable[[str], str], error: str
) -> None:
    code = flow.authorize()["code"]
    assert_error(flow.token(make_code(code)), 400, error)
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize(
    ("code_bytes", "error"),
    [
        pytest.param(b"%FF%FE", "invalid_request", id="percent-encoded-non-utf8"),
        pytest.param(b"%C0%AF", "invalid_request", id="percent-encoded-overlong-utf8"),
        pytest.param(b"%ED%A0%80", "invalid_request", id="percent-encoded-surrogate"),
        pytest.param(b"\xff\xfe", "invalid_request", id="raw-non-utf8"),
        pytest.param(b"\xc0\xaf", "invalid_request", id="raw-overlong-utf8"),
        pytest.param(b"%00", "invalid_request", id="percent-encoded-nul"),
    ],
)
def test_t39_non_utf8_code_is_refused_without_5xx(
    flow: Flow, code_bytes: bytes, error: str
) -> None:
    code = flow.authorize()["code"]
    body = (
        b"grant_type=authorization_code&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code="
        + code_bytes
    )
    headers = basic(flow.client.client_id, flow.client.client_secret)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert_error(post_token(flow.app, body, headers=headers), 400, error)
    assert flow.token(code).status_int == 200


# -- T-40 client authentication -----------------------------------------------------------------


Credentials = tuple[dict[str, str], dict[str, str]]  # (extra headers, extra body)

CLIENT_AUTH_FAILURES: dict[str, Callable[[RP, RP], Credentials]] = {
    "basic-wrong-secret": lambda a, b: (basic(a.client_id, a.client_secret + "x"), {}),
    "basic-truncated-secret": lambda a, b: (basic(a.client_id, a.client_secret[:-1]), {}),
    "basic-empty-secret": lambda a, b: (basic(a.client_id, ""), {}),
    "basic-other-clients-secret": lambda a, b: (basic(a.client_id, b.client_secret), {}),
    "basic-unknown-client": lambda a, b: (basic("no-such-client", a.client_secret), {}),
    # client IDs are case-sensitive on every database (MySQL's default collations are not)
    "basic-client-id-in-other-case": lambda a, b: (
        basic(a.client_id.swapcase(), a.client_secret),
        {},
    ),
    "basic-not-base64": lambda a, b: ({"Authorization": "Basic %%%not-base64%%%"}, {}),
    "basic-no-colon": lambda a, b: (
        {"Authorization": "Basic " + base64.b64encode(a.client_id.encode()).decode()},
        {},
    ),
    "basic-empty": lambda a, b: ({"Authorization": "Basic "}, {}),
    "post-wrong-secret": lambda a, b: ({}, {"client_id": a.client_id, "client_secret": "x"}),
    "post-empty-secret": lambda a, b: ({}, {"client_id": a.client_id, "client_secret": ""}),
    "post-other-clients-secret": lambda a, b: (
        {},
        {"client_id": a.client_id, "client_secret": b.client_secret},
    ),
    "post-unknown-client": lambda a, b: (
        {},
        {"client_id": "nobody", "client_secret": a.client_secret},
    ),
    "post-secret-without-client-id": lambda a, b: ({}, {"client_secret": a.client_secret}),
    "post-client-id-only": lambda a, b: ({}, {"client_id": a.client_id}),
    "none": lambda a, b: ({}, {}),
    "bearer-scheme": lambda a, b: ({"Authorization": "Bearer " + a.client_secret}, {}),
    "basic-user-differs-from-body-client-id": lambda a, b: (
        basic(a.client_id, a.client_secret),
        {"client_id": b.client_id},
    ),
}


@pytest.mark.parametrize("variant", CLIENT_AUTH_FAILURES)
def test_t40_failed_client_authentication_is_401_invalid_client(
    flow: Flow, client_b: RP, variant: str
) -> None:
    headers, extra = CLIENT_AUTH_FAILURES[variant](flow.client, client_b)
    code = flow.authorize()["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
        **extra,
    }
    response = post_token(flow.app, data, headers=headers)
    assert_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith(BASIC_CHALLENGE)
    assert flow.token(code).status_int == 200


def test_t40_basic_and_body_secret_together_is_invalid_request(flow: Flow) -> None:
    code = flow.authorize()["code"]
    response = flow.token(code, client_secret=flow.client.client_secret)
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t40_unknown_client_and_wrong_secret_look_the_same(flow: Flow) -> None:
    code = flow.authorize()["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
    }
    wrong_secret = post_token(flow.app, data, headers=basic(flow.client.client_id, "x" * 43))
    unknown_client = post_token(flow.app, data, headers=basic("x" * 22, "x" * 43))
    assert_error(wrong_secret, 401, "invalid_client")
    assert unknown_client.json == wrong_secret.json
    assert unknown_client.headers["WWW-Authenticate"] == wrong_secret.headers["WWW-Authenticate"]


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"], ids=["canonical", "lower", "upper"])
def test_t40_basic_scheme_is_case_insensitive(flow: Flow, scheme: str) -> None:
    code = flow.authorize()["code"]
    creds = base64.b64encode(f"{flow.client.client_id}:{flow.client.client_secret}".encode())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
    }
    response = post_token(flow.app, data, headers={"Authorization": f"{scheme} {creds.decode()}"})
    assert response.status_int == 200


def test_t40_basic_with_the_same_client_id_in_the_body_is_accepted(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert flow.token(code, client_id=flow.client.client_id).status_int == 200


# -- T-41 grant types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "implicit",
        "foo",
        "openid",
        "AUTHORIZATION_CODE",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
)
def test_t41_other_grant_types_are_unsupported(flow: Flow, grant_type: str) -> None:
    code = flow.authorize()["code"]
    response = flow.token(
        code, grant_type=grant_type, refresh_token="x", username="alice", password="pw"
    )
    assert_error(response, 400, "unsupported_grant_type")
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize("grant_type", [None, ""], ids=["missing", "empty"])
def test_t41_missing_grant_type_is_invalid_request(flow: Flow, grant_type: str | None) -> None:
    # RFC 6749 3.1: an empty parameter is an omitted one; 5.2: a missing required one is
    # invalid_request.
    code = flow.authorize()["code"]
    assert_error(flow.token(code, grant_type=grant_type), 400, "invalid_request")
    assert flow.token(code).status_int == 200


# -- T-42 malformed requests -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_t42_other_methods_are_405_with_allow_post(app: webtest.TestApp, method: str) -> None:
    response = app.request("/token", method=method, expect_errors=True)
    assert_error(response, 405, "invalid_request")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "duplicate",
    ["code", "grant_type", "redirect_uri", "client_id", "client_secret", "code_verifier", "scope"],
)
def test_t42_repeated_parameter_is_invalid_request(flow: Flow, duplicate: str) -> None:
    code = flow.code_with_pkce()
    pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", flow.client.redirect_uris[0]),
        ("client_id", flow.client.client_id),
        ("client_secret", flow.client.client_secret),
        ("code_verifier", flow.verifier),
        ("scope", "openid"),
    ]
    pairs.append(next(pair for pair in pairs if pair[0] == duplicate))
    assert_error(post_token(flow.app, pairs), 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_json_body_is_invalid_request(flow: Flow) -> None:
    code = flow.authorize()["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.client.redirect_uris[0],
    }
    headers = basic(flow.client.client_id, flow.client.client_secret)
    response = flow.app.post_json("/token", data, headers=headers, expect_errors=True)
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "text/plain", "application/xml", ""]
)
def test_t42_body_that_is_not_form_encoded_is_invalid_request(
    flow: Flow, content_type: str
) -> None:
    code = flow.authorize()["code"]
    body = (
        f"grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    ).encode()
    headers = basic(flow.client.client_id, flow.client.client_secret)
    if content_type:
        headers["Content-Type"] = content_type
    response = flow.app.request(
        "/token", method="POST", body=body, headers=headers, expect_errors=True
    )
    assert response.request.headers.get("Content-Type", "") == content_type
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_parameters_in_the_query_string_are_invalid_request(flow: Flow) -> None:
    code = flow.authorize()["code"]
    headers = basic(flow.client.client_id, flow.client.client_secret)
    query = f"grant_type=authorization_code&code={code}&redirect_uri={flow.client.redirect_uris[0]}"
    response = flow.app.post(f"/token?{query}", headers=headers, expect_errors=True)
    assert_error(response, 400, "invalid_request")
    response = flow.app.post(
        f"/token?code={code}",
        {"grant_type": "authorization_code", "redirect_uri": flow.client.redirect_uris[0]},
        headers=headers,
        expect_errors=True,
    )
    assert_error(response, 400, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_form_content_type_with_charset_is_accepted(flow: Flow) -> None:
    code = flow.authorize()["code"]
    body = (
        f"grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    ).encode()
    headers = basic(flow.client.client_id, flow.client.client_secret)
    headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
    assert post_token(flow.app, body, headers=headers).status_int == 200


def test_t42_oversized_body_is_413_json(flow: Flow) -> None:
    code = flow.authorize()["code"]
    response = flow.token(code, padding="x" * 70_000)
    assert_error(response, 413, "invalid_request")
    assert flow.token(code).status_int == 200


def test_t42_unknown_parameters_are_ignored(flow: Flow) -> None:
    code = flow.authorize()["code"]
    assert flow.token(code, unknown="value", another="1").status_int == 200


def test_t42_missing_code_is_invalid_request(flow: Flow) -> None:
    flow.authorize()
    assert_error(flow.token(None), 400, "invalid_request")  # type: ignore[arg-type]


# -- T-43 the success response ------------------------------------------------------------------


def test_t43_success_response_shape(flow: Flow) -> None:
    response = flow.token(flow.code_with_pkce())
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "id_token"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    assert set(body["scope"].split()) == {"openid", "profile", "email"}
    assert ACCESS_TOKEN.fullmatch(body["access_token"])


def test_t43_access_tokens_are_unique(flow: Flow) -> None:
    tokens = {flow.token(flow.authorize()["code"]).json["access_token"] for _ in range(3)}
    assert len(tokens) == 3


def test_t43_scope_is_the_consented_one(flow: Flow) -> None:
    response = flow.token(flow.authorize(scope="openid email")["code"], scope="openid profile")
    assert response.status_int == 200
    assert set(response.json["scope"].split()) == {"openid", "email"}


# -- T-45 credentials at rest and in logs ---------------------------------------------------------


def test_t45_client_secret_is_stored_as_sha256_digest(provider: Provider, client_a: RP) -> None:
    digest = provider.storage.database.execute_sql(
        "SELECT secret_digest FROM oidc_client"
    ).fetchone()[0]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(client_a.client_secret.encode()).hexdigest()
    assert client_a.client_secret not in all_stored_text(provider)


def test_t45_secret_reset_stores_only_the_new_digest(flow: Flow, provider: Provider) -> None:
    old_secret = flow.client.client_secret
    new_secret = provider.storage.clients.reset_secret(flow.client.client_id)
    stored = all_stored_text(provider)
    assert old_secret not in stored
    assert new_secret not in stored
    assert hashlib.sha256(new_secret.encode()).hexdigest() in stored
    code = flow.authorize()["code"]
    assert_error(flow.token(code), 401, "invalid_client")
    flow.client.client_secret = new_secret
    assert flow.token(code).status_int == 200


def test_t45_codes_and_access_tokens_are_stored_only_as_digests(
    flow: Flow, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = flow.code_with_pkce()
    access_token = flow.token(code).json["access_token"]
    assert flow.token(code).status_int == 400  # the replay path logs too
    stored = all_stored_text(provider)
    for value in (code, access_token, flow.client.client_secret):
        assert value not in stored
    assert hashlib.sha256(code.encode()).hexdigest() in stored
    assert hashlib.sha256(access_token.encode()).hexdigest() in stored
    # oauthlib's own DEBUG records print the code it generated ("Saving grant {...}"), so
    # its loggers are checked from INFO (the production level); ours and peewee's at DEBUG.
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO or not record.name.startswith("oauthlib")
    )
    for value in (code, access_token, flow.client.client_secret, flow.user.password):
        assert value not in logged


# -- T-46 the ID token ---------------------------------------------------------------------------


def test_t46_id_token_claims(flow: Flow) -> None:
    nonce = "n-0S6_WzA2Mj+/ \u00e9"
    body = flow.token(flow.code_with_pkce(nonce=nonce)).json
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    assert claims["iss"] == flow.issuer
    assert claims["aud"] in (flow.client.client_id, [flow.client.client_id])
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1:
        assert claims["azp"] == flow.client.client_id
    assert claims["exp"] > claims["iat"]
    assert abs(claims["iat"] - time.time()) < 300
    assert claims["nonce"] == nonce
    assert isinstance(claims["auth_time"], int)
    assert claims["auth_time"] <= claims["iat"]
    info = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    ).json
    assert claims["sub"] == info["sub"] == flow.user.subject


def test_t46_id_token_header(flow: Flow) -> None:
    id_token = flow.token(flow.authorize()["code"]).json["id_token"]
    header = jwt.get_unverified_header(id_token)
    assert header["alg"] == "RS256"
    assert not {"jwk", "jku", "x5u", "x5c", "crit"} & set(header)
    kids = [key["kid"] for key in flow.app.get("/jwks").json["keys"]]
    assert header["kid"] in kids


def test_t46_at_hash_matches_the_access_token(flow: Flow) -> None:
    body = flow.token(flow.authorize()["code"]).json
    claims = verify_id_token(flow.app, body["id_token"], flow.client.client_id)
    left_half = hashlib.sha256(body["access_token"].encode("ascii")).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(left_half).rstrip(b"=").decode()


def test_t46_no_nonce_sent_means_no_nonce_claim(flow: Flow) -> None:
    body = flow.token(flow.authorize(nonce=None)["code"]).json
    assert "nonce" not in verify_id_token(flow.app, body["id_token"], flow.client.client_id)


def test_t46_sub_is_stable_and_audience_is_per_client(flow: Flow, client_b: RP) -> None:
    first = flow.token(flow.authorize()["code"]).json["id_token"]
    second = flow.token(flow.authorize()["code"]).json["id_token"]
    other = Flow(flow.app, client_b, flow.user)
    third = other.token(other.authorize()["code"]).json["id_token"]
    subs = {
        verify_id_token(flow.app, first, flow.client.client_id)["sub"],
        verify_id_token(flow.app, second, flow.client.client_id)["sub"],
        verify_id_token(flow.app, third, client_b.client_id)["sub"],
    }
    assert subs == {flow.user.subject}
    with pytest.raises(jwt.InvalidAudienceError):
        verify_id_token(flow.app, third, flow.client.client_id)
