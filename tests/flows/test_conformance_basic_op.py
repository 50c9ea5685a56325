"""The authorization request as the OpenID conformance suite's Basic OP and Config OP plans
check it (CONFORMANCE-CHECKLIST.md), one test per module, named after it; plus
SECURITY-CHECKLIST T-16 (form_post), T-21 (prompt=login, max_age), T-52/T-53 (forged and
huge id_token_hint).

ID tokens are verified with PyJWT against the published JWKS; forged hints are made with
PyJWT and ``cryptography``, never with the provider's own JOSE code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
import webtest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oidc_core import Provider
from oidc_core.testing import pkce_pair
from tests.conftest import new_app
from tests.support.flow import RP, Account, Flow, query_of, verify_id_token
from tests.support.timing import fastest_of

CB = "https://rp.example/cb"
STATE = "st4te-Ω"
PROFILE = {"name", "given_name", "family_name", "preferred_username", "locale", "updated_at"}


def id_token_of(flow: Flow, callback: dict[str, str]) -> dict[str, Any]:
    response = flow.token(callback["code"])
    assert response.status_int == 200, response.text
    claims = verify_id_token(flow.app, response.json["id_token"], flow.client.client_id)
    claims["_raw"] = response.json["id_token"]
    claims["_access_token"] = response.json["access_token"]
    return claims


def userinfo(flow: Flow, token: dict[str, Any]) -> dict[str, Any]:
    response = flow.app.get(
        "/userinfo", headers={"Authorization": "Bearer " + token["_access_token"]}
    )
    assert response.status_int == 200
    info: dict[str, Any] = response.json
    assert info["sub"] == token["sub"]
    return info


def redirect_error(flow: Flow, response: webtest.TestResponse, error: str) -> dict[str, str]:
    """A redirect to the registered URI with ``error``, the exact state, iss and no code."""
    assert response.status_int == 302, (response.status, response.text[:300])
    location = response.headers["Location"]
    assert location.startswith(CB + "?"), location
    callback = query_of(location)
    assert callback["error"] == error, callback
    assert callback["iss"] == flow.issuer
    assert callback.get("state") == STATE
    assert "code" not in callback
    for char in "\r\n\t":
        assert char not in callback.get("error_description", "")
    return callback


def straight_back(flow: Flow, **overrides: Any) -> dict[str, str]:
    """The authorization request is answered at once, without any page."""
    response = flow.start(**overrides)
    assert response.status_int == 302, (response.status, response.headers.get("Location"))
    assert response.headers["Location"].startswith(CB + "?")
    return query_of(response.headers["Location"])


def asks_to_log_in(flow: Flow, **overrides: Any) -> webtest.TestResponse:
    """The request is parked and the browser sent to the login page; returns that page."""
    response = flow.start(**overrides)
    assert response.status_int == 303, (response.status, response.headers.get("Location"))
    assert response.headers["Location"].startswith(flow.issuer + "/login?interaction=")
    page = flow.app.get(response.headers["Location"])
    assert page.status_int == 200 and 'name="password"' in page.text
    return page


def authenticated_earlier(provider: Provider, seconds: int) -> None:
    """Move every session's authentication ``seconds`` into the past (instead of sleeping)."""
    provider.storage.database.execute_sql(
        f"UPDATE oidc_browser_session SET auth_time = auth_time - {int(seconds)}"
    )


def logged_in_earlier(flow: Flow, provider: Provider, seconds: int) -> dict[str, Any]:
    """Log in, as if ``seconds`` ago; the ID token of a (silent) authorization since."""
    flow.authorize()
    authenticated_earlier(provider, seconds)
    token = id_token_of(flow, straight_back(flow))
    assert token["auth_time"] <= time.time() - seconds
    return token


def code_rows(provider: Provider) -> int:
    sql = "SELECT COUNT(*) FROM oidc_authorization_code"
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


# -- Basic OP: happy flows and tolerated parameters ----------------------------------------


def test_oidcc_response_type_missing(flow: Flow, provider: Provider) -> None:
    redirect_error(flow, flow.start(response_type=None, state=STATE), "invalid_request")
    assert code_rows(provider) == 0


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(flow: Flow) -> None:
    token = id_token_of(flow, flow.authorize(nonce=None))
    assert "nonce" not in token


def test_oidcc_ensure_request_with_valid_pkce_succeeds(flow: Flow) -> None:
    flow.verifier, challenge = pkce_pair()
    callback = flow.authorize(code_challenge=challenge, code_challenge_method="S256")
    assert id_token_of(flow, callback)["sub"] == flow.user.subject


def test_oidcc_ensure_request_with_unknown_parameter_succeeds(flow: Flow) -> None:
    callback = flow.authorize(extra="foobar", state=STATE)
    assert callback["state"] == STATE
    id_token_of(flow, callback)


def test_oidcc_ensure_post_request_succeeds(flow: Flow) -> None:
    response = flow.app.post("/authorize", flow.authorize_params(state=STATE))
    assert response.status_int == 303
    page = flow.app.get(response.headers["Location"])
    consent = flow.app.get(flow.login(page).headers["Location"])
    callback = query_of(flow.consent(consent).headers["Location"])
    assert callback["state"] == STATE
    id_token_of(flow, callback)


def test_oidcc_alternate_happy_flow(flow: Flow) -> None:
    """Scope values reversed and the query parameters in another order (RFC 6749 3.3)."""
    params = flow.authorize_params(scope="email profile openid", state=STATE)
    query = urlencode(list(reversed(list(params.items()))))
    response = flow.app.get("/authorize?" + query)
    page = flow.app.get(response.headers["Location"])
    consent = flow.app.get(flow.login(page).headers["Location"])
    callback = query_of(flow.consent(consent).headers["Location"])
    assert callback["state"] == STATE
    info = userinfo(flow, id_token_of(flow, callback))
    assert PROFILE | {"email"} <= set(info)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid profile", PROFILE),
        ("openid email", {"email", "email_verified"}),
        ("openid address", set()),
        ("openid phone", set()),
        ("openid address email phone profile", PROFILE | {"email", "email_verified"}),
    ],
    ids=["oidcc_scope_profile", "oidcc_scope_email", "address", "phone", "oidcc_scope_all"],
)
def test_oidcc_scope(flow: Flow, scope: str, expected: set[str]) -> None:
    """oidcc-scope-profile/-email/-address/-phone/-all: address and phone are not offered
    (not in scopes_supported, so the suite skips them) and must not break the flow."""
    token = id_token_of(flow, flow.authorize(scope=scope))
    info = userinfo(flow, token)
    assert set(info) == {"sub"} | expected


def test_unsupported_scopes_are_not_advertised(app: webtest.TestApp) -> None:
    supported = app.get("/.well-known/openid-configuration").json["scopes_supported"]
    assert "address" not in supported and "phone" not in supported


@pytest.mark.parametrize("display", ["page", "popup", "touch", "wap", "unknown"])
def test_oidcc_display_page_and_popup(flow: Flow, display: str) -> None:
    """oidcc-display-page, oidcc-display-popup: accepted, the normal login page."""
    asks_to_log_in(flow, display=display)
    id_token_of(flow, flow.authorize(display=display))


def test_oidcc_login_hint(flow: Flow, issuer: str) -> None:
    """The suite sends buffy@<issuer host>: no error, a fresh login page."""
    host = urlsplit(issuer).hostname
    page = asks_to_log_in(flow, login_hint=f"buffy@{host}")
    assert f'value="buffy@{host}"' in page.text


def test_login_hint_prefills_the_email_field_escaped(flow: Flow) -> None:
    page = asks_to_log_in(flow, login_hint='alice@example.com"><b>')
    assert 'value="alice@example.com&#34;&gt;&lt;b&gt;"' in page.text
    assert asks_to_log_in(flow, login_hint="not-an-email").text.count('value=""') >= 1


def test_oidcc_ui_locales(flow: Flow) -> None:
    asks_to_log_in(flow, ui_locales="se")
    id_token_of(flow, flow.authorize(ui_locales="se fr-CA en"))


def test_oidcc_claims_locales(flow: Flow) -> None:
    id_token_of(flow, flow.authorize(claims_locales="se"))


def test_oidcc_ensure_request_with_acr_values_succeeds(flow: Flow) -> None:
    """acr_values is a voluntary request: accepted; no acr is issued (docs/protocol.md)."""
    token = id_token_of(flow, flow.authorize(acr_values="1 2"))
    assert "acr" not in token


def test_essential_acr_cannot_be_met_and_is_access_denied(flow: Flow, provider: Provider) -> None:
    """OIDC Core 5.5.1.1: an essential acr that cannot be met is a failed authentication."""
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": ["2"]}}})
    redirect_error(flow, flow.start(claims=claims, state=STATE), "access_denied")
    voluntary = json.dumps({"id_token": {"acr": {"values": ["2"]}}})
    assert "acr" not in id_token_of(flow, flow.authorize(claims=voluntary))


# -- the claims parameter (OIDC Core 5.5) ------------------------------------------------------


def test_oidcc_claims_essential(flow: Flow) -> None:
    claims = json.dumps({"userinfo": {"name": {"essential": True}}})
    info = userinfo(flow, id_token_of(flow, flow.authorize(claims=claims)))
    assert info["name"] == "Alice Liddell"


def test_claims_parameter_id_token_member_puts_claims_in_the_id_token(flow: Flow) -> None:
    claims = json.dumps(
        {"id_token": {"email": {"essential": True}, "name": None, "sub": {"value": "x"}}}
    )
    token = id_token_of(flow, flow.authorize(claims=claims))
    assert token["email"] == "alice@example.com"
    assert token["name"] == "Alice Liddell"
    assert token["sub"] == flow.user.subject
    assert "given_name" not in token


def test_claims_parameter_never_releases_more_than_the_granted_scopes(flow: Flow) -> None:
    claims = json.dumps({"id_token": {"email": None}, "userinfo": {"email": None}})
    token = id_token_of(flow, flow.authorize(scope="openid profile", claims=claims))
    assert "email" not in token
    assert "email" not in userinfo(flow, token)


def test_without_claims_parameter_the_id_token_has_no_profile_claims(flow: Flow) -> None:
    token = id_token_of(flow, flow.authorize())
    assert not (PROFILE | {"email"}) & set(token)


@pytest.mark.parametrize(
    "claims",
    [
        '{"id_token": []}',
        '{"userinfo": "name"}',
        '{"userinfo": {"name": true}}',
        '{"id_token": {"email": 1}}',
    ],
)
def test_claims_parameter_of_the_wrong_shape_is_invalid_request(flow: Flow, claims: str) -> None:
    redirect_error(flow, flow.start(claims=claims, state=STATE), "invalid_request")


# -- prompt -------------------------------------------------------------------------------------


def test_oidcc_prompt_login(flow: Flow, provider: Provider) -> None:
    first = logged_in_earlier(flow, provider, 5)
    page = asks_to_log_in(flow, prompt="login")
    callback = query_of(flow.login(page).headers["Location"])
    second = id_token_of(flow, callback)
    assert second["sub"] == first["sub"]
    assert second["auth_time"] > first["auth_time"]


def test_oidcc_prompt_none_not_logged_in(flow: Flow, provider: Provider) -> None:
    redirect_error(flow, flow.start(prompt="none", state=STATE), "login_required")
    assert code_rows(provider) == 0


def test_oidcc_prompt_none_logged_in(flow: Flow) -> None:
    first = id_token_of(flow, flow.authorize())
    second = id_token_of(flow, straight_back(flow, prompt="none"))
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_prompt_none_with_another_value_is_invalid_request(flow: Flow) -> None:
    flow.authorize()
    for prompt in ("none login", "consent none", "none select_account"):
        redirect_error(flow, flow.start(prompt=prompt, state=STATE), "invalid_request")


def test_prompt_select_account_shows_the_login_page(flow: Flow) -> None:
    flow.authorize()
    asks_to_log_in(flow, prompt="select_account")


def test_prompt_consent_asks_again_although_consent_is_remembered(flow: Flow) -> None:
    flow.authorize()
    response = flow.start(prompt="consent")
    assert response.status_int == 303
    assert response.headers["Location"].startswith(flow.issuer + "/consent?interaction=")


# -- max_age ------------------------------------------------------------------------------------


def test_oidcc_max_age_1(flow: Flow, provider: Provider) -> None:
    first = logged_in_earlier(flow, provider, 2)
    page = asks_to_log_in(flow, max_age="1")
    second = id_token_of(flow, query_of(flow.login(page).headers["Location"]))
    assert second["auth_time"] > first["auth_time"]
    assert second["sub"] == first["sub"]


def test_oidcc_max_age_10000(flow: Flow) -> None:
    first = id_token_of(flow, flow.authorize(max_age="15000"))
    assert "auth_time" in first
    second = id_token_of(flow, straight_back(flow, max_age="10000"))
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_max_age_0_always_asks_to_log_in(flow: Flow) -> None:
    flow.authorize()
    asks_to_log_in(flow, max_age="0")


def test_empty_max_age_is_an_omitted_one(flow: Flow) -> None:
    flow.authorize()
    straight_back(flow, max_age="")


def test_max_age_with_prompt_none_and_an_old_login_is_login_required(
    flow: Flow, provider: Provider
) -> None:
    flow.authorize()
    authenticated_earlier(provider, 120)
    redirect_error(flow, flow.start(max_age="60", prompt="none", state=STATE), "login_required")


# -- id_token_hint ------------------------------------------------------------------------------


def test_oidcc_id_token_hint(flow: Flow) -> None:
    first = id_token_of(flow, flow.authorize())
    second = id_token_of(flow, straight_back(flow, prompt="none", id_token_hint=first["_raw"]))
    assert second["sub"] == first["sub"]


def test_an_expired_id_token_hint_is_still_a_hint(flow: Flow, provider: Provider) -> None:
    first = id_token_of(flow, flow.authorize())
    claims = {k: v for k, v in first.items() if not k.startswith("_")}
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    expired = provider.keys.sign(claims)  # the provider's own key: only it can make one
    straight_back(flow, prompt="none", id_token_hint=expired)


def test_id_token_hint_of_another_user_is_login_required(
    flow: Flow, bob: Account, provider: Provider
) -> None:
    bobs = Flow(new_app(provider), flow.client, bob)
    bob_token = id_token_of(bobs, bobs.authorize())
    flow.authorize()
    redirect_error(
        flow,
        flow.start(prompt="none", id_token_hint=bob_token["_raw"], state=STATE),
        "login_required",
    )
    asks_to_log_in(flow, id_token_hint=bob_token["_raw"])


def test_id_token_hint_with_nobody_signed_in_is_login_required(flow: Flow) -> None:
    hint = id_token_of(flow, flow.authorize())["_raw"]
    flow.app.reset()  # another browser, no session
    redirect_error(
        flow, flow.start(prompt="none", id_token_hint=hint, state=STATE), "login_required"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged_hints(flow: Flow, genuine: str, client_b_token: str) -> dict[str, str]:
    """T-52: each a token we must refuse as a hint."""
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    jwks = flow.app.get("/jwks").json
    our_jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    public = jwt.PyJWK(our_jwk)
    public_pem = public.key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    head, body, signature = genuine.split(".")
    none_header = _b64(json.dumps({"alg": "none", "kid": header["kid"]}).encode())
    return {
        "alg none": f"{none_header}.{body}.",
        "HS256 with our public key (PEM)": _hs256(claims, header["kid"], public_pem),
        "HS256 with our public key (JWK)": _hs256(
            claims, header["kid"], json.dumps(our_jwk).encode()
        ),
        "attacker key embedded as jwk": jwt.encode(
            claims, attacker, algorithm="RS256", headers={"kid": header["kid"], "jwk": attacker_jwk}
        ),
        "attacker key with our kid": jwt.encode(
            claims, attacker, algorithm="RS256", headers={"kid": header["kid"]}
        ),
        "jku elsewhere": jwt.encode(
            claims,
            attacker,
            algorithm="RS256",
            headers={"kid": header["kid"], "jku": "https://evil.example/jwks"},
        ),
        "x5u elsewhere": jwt.encode(
            claims,
            attacker,
            algorithm="RS256",
            headers={"kid": header["kid"], "x5u": "https://evil.example/cert"},
        ),
        "unknown kid": jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": "nope"}),
        "crit bork": f"{_b64(json.dumps({**header, 'crit': ['bork']}).encode())}.{body}."
        + signature,
        "body changed": f"{head}.{_b64(json.dumps({**claims, 'sub': 'x'}).encode())}.{signature}",
        "signature cut": f"{head}.{body}.{signature[:-4]}",
        "no signature": f"{head}.{body}.",
        "another client's token (wrong aud)": client_b_token,
        "garbage": "garbage",
        "two parts": f"{head}.{body}",
        "not base64": "%%%.%%%.%%%",
        "header not json": f"{_b64(b'[1,2]')}.{body}.{signature}",
    }


def _hs256(claims: dict[str, Any], kid: str, secret: bytes) -> str:
    head = _b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
    signing = f"{head}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(mac)}"


def test_forged_id_token_hints_are_refused(flow: Flow, client_b: RP, provider: Provider) -> None:
    """T-52: never accepted; invalid_request redirected to the client, never a code or 5xx."""
    genuine = id_token_of(flow, flow.authorize())["_raw"]
    b = Flow(flow.app, client_b, flow.user)
    b_token = id_token_of(b, b.authorize())["_raw"]
    codes = code_rows(provider)
    for name, forged in _forged_hints(flow, genuine, b_token).items():
        for prompt in ("none", None):
            response = flow.start(prompt=prompt, id_token_hint=forged, state=STATE)
            callback = redirect_error(flow, response, "invalid_request")
            assert "id_token_hint" in callback["error_description"], name
    assert code_rows(provider) == codes


@pytest.mark.parametrize(
    "extra_header",
    [{"crit": ["bork"], "bork": 1}, {"jku": "https://evil.example/jwks"}, {"x5u": "https://e.x"}],
)
def test_id_token_hint_with_unexpected_header_is_refused_even_if_signed_by_our_key(
    flow: Flow, provider: Provider, extra_header: dict[str, Any]
) -> None:
    """RFC 7515 4.1.11: a crit extension we do not understand is refused; so is any header
    parameter beyond alg, kid and typ (signed here with our key, read from the database)."""
    genuine = id_token_of(flow, flow.authorize())["_raw"]
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    pem = next(r.private_pem for r in provider.storage.keys.all() if r.kid == header["kid"])
    hint = jwt.encode(claims, pem, algorithm="RS256", headers={**header, **extra_header})
    straight_back(
        flow,
        prompt="none",
        id_token_hint=jwt.encode(claims, pem, algorithm="RS256", headers=header),
    )
    redirect_error(flow, flow.start(id_token_hint=hint, state=STATE), "invalid_request")


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "logout+jwt"])
def test_a_token_of_another_type_signed_by_our_key_is_no_id_token_hint(
    flow: Flow, provider: Provider, typ: str
) -> None:
    """RFC 8725 3.11: the same claims under an access token's or a logout token's ``typ``
    (signed with our key, read from the database) are refused as a hint."""
    genuine = id_token_of(flow, flow.authorize())["_raw"]
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    pem = next(r.private_pem for r in provider.storage.keys.all() if r.kid == header["kid"])
    hint = jwt.encode(claims, pem, algorithm="RS256", headers={**header, "typ": typ})
    redirect_error(flow, flow.start(id_token_hint=hint, state=STATE), "invalid_request")


def test_id_token_hint_from_another_issuer_is_refused(flow: Flow, provider: Provider) -> None:
    first = id_token_of(flow, flow.authorize())
    claims = {k: v for k, v in first.items() if not k.startswith("_")}
    claims["iss"] = "https://evil.example"
    hint = provider.keys.sign(claims)  # our key, another iss: still not ours
    redirect_error(flow, flow.start(id_token_hint=hint, state=STATE), "invalid_request")


def test_huge_id_token_hint_is_refused_quickly(flow: Flow) -> None:
    """T-53: a 1 MB hint is refused by the size limit (an error page), fast."""
    params = flow.authorize_params(id_token_hint="a." * 500_000 + "a")
    elapsed, response = fastest_of(
        3, lambda: flow.app.post("/authorize", params, expect_errors=True)
    )
    assert response.status_int in (400, 413)
    assert "Location" not in response.headers
    assert elapsed < 1.0, elapsed


# -- request objects ----------------------------------------------------------------------------


def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    flow: Flow,
) -> None:
    request_object = jwt.encode(
        {"client_id": flow.client.client_id, "scope": "openid", "response_type": "code"},
        None,
        algorithm="none",
    )
    redirect_error(flow, flow.start(request=request_object, state=STATE), "request_not_supported")


def test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported(
    flow: Flow,
) -> None:
    redirect_error(
        flow,
        flow.start(request_uri="https://rp.example/request.jwt", state=STATE),
        "request_uri_not_supported",
    )


# -- response_mode=form_post (T-16) -------------------------------------------------------------


def form_post_fields(response: webtest.TestResponse, action: str = CB) -> dict[str, str]:
    """The auto-submitting page: its form posts hidden fields to ``action``, nothing else."""
    assert response.status_int == 200, response.status
    assert response.content_type == "text/html"
    assert "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    forms = re.findall(r'<form method="post" action="([^"]*)">', response.text)
    assert [unescape(a) for a in forms] == [action]
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)">', response.text
        )
    }
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'sha256-{digest}'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    return fields


def test_form_post_delivers_the_code(flow: Flow) -> None:
    flow.authorize()
    fields = form_post_fields(flow.start(response_mode="form_post", state=STATE))
    assert set(fields) == {"code", "state", "iss"}
    assert (fields["state"], fields["iss"]) == (STATE, flow.issuer)
    id_token_of(flow, fields)


def test_form_post_after_login_and_consent(flow: Flow) -> None:
    page = asks_to_log_in(flow, response_mode="form_post", state=STATE)
    consent = flow.app.get(flow.login(page).headers["Location"])
    fields = form_post_fields(flow.consent(consent))
    assert fields["state"] == STATE
    id_token_of(flow, fields)


def test_form_post_errors_are_posted_too(flow: Flow) -> None:
    fields = form_post_fields(flow.start(response_mode="form_post", prompt="none", state=STATE))
    assert fields["error"] == "login_required"
    assert (fields["state"], fields["iss"]) == (STATE, flow.issuer)
    assert "code" not in fields


def test_form_post_values_are_html_escaped(flow: Flow) -> None:
    flow.authorize()
    state = "\"><script>alert(1)</script>&amp;'<"
    response = flow.start(response_mode="form_post", state=state)
    assert "<script>alert" not in response.text
    assert form_post_fields(response)["state"] == state


def test_form_post_goes_to_the_registered_uri_with_its_query(flow: Flow) -> None:
    flow.authorize(redirect_uri="https://rp.example/cb2?x=1")
    response = flow.start(response_mode="form_post", redirect_uri="https://rp.example/cb2?x=1")
    fields = form_post_fields(response, action="https://rp.example/cb2?x=1")
    assert "code" in fields


def test_form_post_to_an_unregistered_uri_is_an_error_page(flow: Flow) -> None:
    response = flow.start(response_mode="form_post", redirect_uri="https://evil.example/cb")
    assert response.status_int == 400
    assert "evil.example" not in response.text and "<form" not in response.text


def test_consent_denied_with_form_post_is_posted(flow: Flow) -> None:
    page = asks_to_log_in(flow, response_mode="form_post", state=STATE)
    consent = flow.app.get(flow.login(page).headers["Location"])
    fields = form_post_fields(flow.consent(consent, decision="deny"))
    assert fields["error"] == "access_denied"


# -- Config OP: what discovery says about the authorization request -------------------------


def test_oidcc_discovery_endpoint_verification_authorization_request(
    app: webtest.TestApp,
) -> None:
    metadata = app.get("/.well-known/openid-configuration").json
    assert metadata["response_modes_supported"] == ["query", "form_post"]
    assert metadata["claims_parameter_supported"] is True
    assert metadata["request_parameter_supported"] is False
    assert metadata["request_uri_parameter_supported"] is False
    assert "request_object_signing_alg_values_supported" not in metadata
    assert "acr_values_supported" not in metadata
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "auth_time" in metadata["claims_supported"]
