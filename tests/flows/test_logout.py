"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at /end_session.

Certification modules of the RP-Initiated OP plan: oidcc-rp-initiated-logout,
oidcc-rp-initiated-logout-bad-post-logout-redirect-uri, oidcc-rp-initiated-logout-no-state,
oidcc-rp-initiated-logout-no-params (confirmation page), oidcc-rp-initiated-logout-only-state,
oidcc-rp-initiated-logout-bad-id-token-hint; security checklist T-20 (the old cookie is
useless after logout), R-OR-1 (no open redirect), R-CS-1 (CSRF on the confirmation form).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import webtest

from oidc_core import Provider
from tests.conftest import make_client, new_app
from tests.support.admin_api import CLIENTS, METADATA, Api, new_token
from tests.support.conformance_basic_op import _forged_hints, id_token_of
from tests.support.flow import RP, Account, Flow, hidden, query_of

BYE = "https://rp.example/bye"
BYE2 = "https://rp.example/bye?from=op"


@pytest.fixture
def rp(storage: Any) -> RP:
    return make_client(
        storage,
        "Logout RP",
        ["https://rp.example/cb"],
        post_logout_redirect_uris=(BYE, BYE2),
    )


@pytest.fixture
def signed_in(app: webtest.TestApp, rp: RP, alice: Account) -> tuple[Flow, dict[str, Any]]:
    """Alice signed in at ``rp``, with her ID token."""
    flow = Flow(app, rp, alice)
    return flow, id_token_of(flow, flow.authorize())


def end_session(flow: Flow, method: str = "GET", **params: str) -> webtest.TestResponse:
    if method == "POST":
        return flow.app.post("/end_session", params, expect_errors=True)
    return flow.app.get("/end_session?" + urlencode(params), expect_errors=True)


def still_signed_in(flow: Flow) -> bool:
    """An authorization request is answered at once (True) or asks to log in (False)."""
    response = flow.start()
    location = response.headers["Location"]
    if response.status_int == 303 and location.startswith(flow.issuer + "/login?"):
        return False
    assert response.status_int == 302 and query_of(location).get("code"), location
    return True


def signed_out_to(response: webtest.TestResponse, uri: str, state: str | None) -> None:
    assert response.status_int == 303, (response.status, response.text[:300])
    location = response.headers["Location"]
    assert location.split("?")[0] == uri.split("?")[0]
    query = query_of(location)
    assert query.get("state") == state
    cookies = " ".join(response.headers.getall("Set-Cookie"))
    assert "oidc_session=;" in cookies or "Max-Age=0" in cookies, cookies


def error_page(response: webtest.TestResponse, status: int = 400) -> None:
    assert response.status_int == status, (response.status, response.text[:300])
    assert "Location" not in response.headers
    assert response.content_type == "text/html"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_discovery_advertises_the_end_session_endpoint(app: webtest.TestApp, issuer: str) -> None:
    assert app.get("/.well-known/openid-configuration").json["end_session_endpoint"] == (
        issuer + "/end_session"
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_oidcc_rp_initiated_logout(signed_in: tuple[Flow, dict[str, Any]], method: str) -> None:
    flow, token = signed_in
    cookie = flow.app.cookies["oidc_session"]
    response = end_session(
        flow, method, id_token_hint=token["_raw"], post_logout_redirect_uri=BYE, state="s t"
    )
    signed_out_to(response, BYE, "s t")
    assert not still_signed_in(flow)
    # T-20: the old cookie is useless
    other = new_app_with_cookie(flow, cookie)
    assert not still_signed_in(other)


def new_app_with_cookie(flow: Flow, cookie: str) -> Flow:
    app = flow.app.new_browser()
    app.set_cookie("oidc_session", cookie)
    return Flow(app, flow.client, flow.user)


def test_registered_uri_with_a_query_keeps_it(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, token = signed_in
    response = end_session(
        flow, id_token_hint=token["_raw"], post_logout_redirect_uri=BYE2, state="x"
    )
    signed_out_to(response, BYE2, "x")
    assert query_of(response.headers["Location"]) == {"from": "op", "state": "x"}


def test_no_state_no_state_on_the_redirect(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, token = signed_in
    response = end_session(flow, id_token_hint=token["_raw"], post_logout_redirect_uri=BYE)
    signed_out_to(response, BYE, None)


def test_client_id_and_hint_together_must_agree(
    signed_in: tuple[Flow, dict[str, Any]], storage: Any
) -> None:
    flow, token = signed_in
    other = make_client(storage, "Other", [BYE], post_logout_redirect_uris=(BYE,))
    response = end_session(
        flow, id_token_hint=token["_raw"], client_id=other.client_id, post_logout_redirect_uri=BYE
    )
    error_page(response)
    assert still_signed_in(flow)
    response = end_session(
        flow,
        id_token_hint=token["_raw"],
        client_id=flow.client.client_id,
        post_logout_redirect_uri=BYE,
    )
    signed_out_to(response, BYE, None)


def test_hint_without_redirect_shows_the_signed_out_page(
    signed_in: tuple[Flow, dict[str, Any]],
) -> None:
    flow, token = signed_in
    page = end_session(flow, id_token_hint=token["_raw"], state="ignored")
    assert page.status_int == 200 and "You are signed out" in page.text
    assert "Logout RP" in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["Cache-Control"] == "no-store"
    assert not still_signed_in(flow)


def test_expired_hint_is_accepted(
    signed_in: tuple[Flow, dict[str, Any]], provider: Provider
) -> None:
    flow, token = signed_in
    claims = {k: v for k, v in token.items() if not k.startswith("_")}
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    expired = provider.keys.sign(claims)
    response = end_session(flow, id_token_hint=expired, post_logout_redirect_uri=BYE, state="e")
    signed_out_to(response, BYE, "e")
    assert not still_signed_in(flow)


def test_nobody_signed_in_is_redirected_at_once(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, token = signed_in
    flow.app.reset()
    response = end_session(flow, id_token_hint=token["_raw"], post_logout_redirect_uri=BYE)
    signed_out_to(response, BYE, None)
    response = end_session(flow, client_id=flow.client.client_id, post_logout_redirect_uri=BYE)
    signed_out_to(response, BYE, None)


def confirm(flow: Flow, page: webtest.TestResponse, **changes: str) -> webtest.TestResponse:
    fields = {
        name: hidden(page, name)
        for name in ("csrf_token", "client_id", "post_logout_redirect_uri", "state")
        if f'name="{name}"' in page.text
    }
    fields["decision"] = "sign_out"
    fields.update(changes)
    return flow.app.post("/end_session", fields, expect_errors=True)


def test_no_hint_asks_for_confirmation(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, _ = signed_in
    page = end_session(
        flow, client_id=flow.client.client_id, post_logout_redirect_uri=BYE, state="c"
    )
    assert page.status_int == 200 and "Sign out of op.example?" in page.text
    assert "Logout RP" in page.text and page.headers["X-Frame-Options"] == "DENY"
    # the confirmation's POST ends at the relying party: CSP form-action must allow it
    assert "form-action 'self' https://rp.example;" in page.headers["Content-Security-Policy"]
    assert still_signed_in(flow)
    signed_out_to(confirm(flow, page), BYE, "c")
    assert not still_signed_in(flow)


def test_no_params_at_all_asks_for_confirmation(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, _ = signed_in
    page = end_session(flow)
    assert page.status_int == 200 and "Sign out of" in page.text
    stayed = confirm(flow, page, decision="stay")
    assert stayed.status_int == 200 and "still signed in" in stayed.text
    assert still_signed_in(flow)
    done = confirm(flow, page)
    assert done.status_int == 200 and "You are signed out" in done.text
    assert not still_signed_in(flow)


def test_signing_out_on_the_confirmation_page_deletes_the_cookie_and_voids_it(
    signed_in: tuple[Flow, dict[str, Any]],
) -> None:
    """T-20: the cookie is deleted and its value no longer signs anyone in."""
    flow, _ = signed_in
    cookie = flow.app.cookies["oidc_session"]
    done = confirm(flow, end_session(flow))
    deleted = " ".join(done.headers.getall("Set-Cookie"))
    assert "oidc_session=;" in deleted or "Max-Age=0" in deleted, deleted
    assert "oidc_session" not in flow.app.cookies
    assert not still_signed_in(new_app_with_cookie(flow, cookie))


def test_hint_of_another_user_asks_for_confirmation(
    signed_in: tuple[Flow, dict[str, Any]], bob: Account, provider: Provider
) -> None:
    flow, _ = signed_in
    bobs = Flow(new_app(provider), flow.client, bob)
    bob_token = id_token_of(bobs, bobs.authorize())
    page = end_session(flow, id_token_hint=bob_token["_raw"], post_logout_redirect_uri=BYE)
    assert page.status_int == 200 and "Sign out of" in page.text
    assert still_signed_in(flow) and still_signed_in(bobs)


def test_the_confirmation_needs_its_csrf_token(
    signed_in: tuple[Flow, dict[str, Any]], bob: Account, provider: Provider
) -> None:
    flow, _ = signed_in
    page = end_session(flow, client_id=flow.client.client_id, post_logout_redirect_uri=BYE)
    bobs = Flow(new_app(provider), flow.client, bob)
    bobs.authorize()
    bobs_page = end_session(bobs, client_id=flow.client.client_id, post_logout_redirect_uri=BYE)
    for token in ("", "0" * 64, hidden(bobs_page, "csrf_token")):
        error_page(confirm(flow, page, csrf_token=token), 403)
    # bound to the request's redirect: another registered URI needs its own token
    error_page(confirm(flow, page, post_logout_redirect_uri=BYE2), 403)
    fields = {"decision": "sign_out", "client_id": flow.client.client_id}
    error_page(flow.app.post("/end_session", fields, expect_errors=True), 403)
    error_page(flow.app.get("/end_session?" + urlencode(fields), expect_errors=True), 405)
    assert still_signed_in(flow)


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/",
        "https://rp.example/cb",  # a login redirect URI, not a post-logout one
        "https://rp.example/bye/",
        "https://rp.example/bye?x=1",
        BYE + "#frag",
    ],
)
def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(
    signed_in: tuple[Flow, dict[str, Any]], uri: str
) -> None:
    flow, token = signed_in
    for params in (
        {"id_token_hint": token["_raw"]},
        {"client_id": flow.client.client_id},
    ):
        response = end_session(flow, post_logout_redirect_uri=uri, state="s", **params)
        error_page(response)
        assert "evil" not in response.headers.get("Location", "")
    assert still_signed_in(flow)


def test_redirect_without_a_client_is_an_error_page(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, _ = signed_in
    error_page(end_session(flow, post_logout_redirect_uri=BYE))
    error_page(end_session(flow, client_id="unknown", post_logout_redirect_uri=BYE))
    assert still_signed_in(flow)


def test_oidcc_rp_initiated_logout_bad_id_token_hint(
    signed_in: tuple[Flow, dict[str, Any]], client_b: RP
) -> None:
    flow, token = signed_in
    b = Flow(flow.app, client_b, flow.user)
    b_token = id_token_of(b, b.authorize())["_raw"]
    for name, forged in _forged_hints(flow, token["_raw"], b_token).items():
        if name.startswith("another client"):
            continue  # a genuine token of client B: B has no post-logout URI
        response = end_session(flow, id_token_hint=forged, post_logout_redirect_uri=BYE)
        error_page(response)
        assert "id_token_hint" in response.text, name
    assert still_signed_in(flow)
    response = end_session(flow, id_token_hint=b_token, post_logout_redirect_uri=BYE)
    error_page(response)
    claims = jwt.decode(token["_raw"], options={"verify_signature": False})
    assert claims["sub"] == token["sub"]


def test_repeated_parameters_and_bad_methods(signed_in: tuple[Flow, dict[str, Any]]) -> None:
    flow, _ = signed_in
    response = flow.app.get(
        f"/end_session?state=a&state=b&client_id={flow.client.client_id}", expect_errors=True
    )
    error_page(response)
    error_page(flow.app.put("/end_session", expect_errors=True), 405)
    assert still_signed_in(flow)


def test_post_logout_redirect_uris_through_the_management_api(
    app: webtest.TestApp, provider: Provider, alice: Account
) -> None:
    admin = Api(app, new_token(provider)[1])
    for bad in (["https://evil.example/#x"], ["http://rp.example/bye"], [BYE, BYE], "x", [1]):
        response = admin.call(
            "POST", CLIENTS, {**METADATA, "post_logout_redirect_uris": bad}, status=400
        )
        assert response.json["field"] == "post_logout_redirect_uris", bad
    created = admin.create(post_logout_redirect_uris=[BYE])
    assert admin.get(created["client_id"])["post_logout_redirect_uris"] == [BYE]
    assert admin.create()["post_logout_redirect_uris"] == []
    client = RP(created["client_id"], created["client_secret"], METADATA["redirect_uris"])
    flow = Flow(app, client, alice, scope="openid email")
    flow.authorize()
    response = end_session(flow, client_id=client.client_id, post_logout_redirect_uri=BYE)
    assert response.status_int == 200 and "Sign out of" in response.text
    signed_out_to(confirm(flow, response), BYE, None)
