"""Forged and oversized JWTs everywhere we accept one (T-52, T-53).

The authorization endpoint's ``id_token_hint`` has its own tests in
``test_conformance_basic_op_id_token_hint.py``; here the same forgeries meet the other places: the
end-session endpoint's ``id_token_hint`` and JWT access tokens (RFC 9068) at userinfo and
introspection.  None is ever accepted, none gives a 5xx.  A 1 MB token in a header or a
hint is refused by the size limits before anything parses it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
import webtest

from oidc_core.storage import Storage
from tests.support.conformance_basic_op import _forged_hints
from tests.support.flow import RP, Account, Flow, query_of
from tests.support.tokens import basic, offline_client, offline_flow

BYE = "https://rp.example/bye"


@pytest.fixture
def logout_rp(storage: Storage) -> RP:
    return offline_client(
        storage, "Logout RP", access_token_format="jwt", post_logout_redirect_uris=(BYE,)
    )


@pytest.fixture
def signed_in(app: webtest.TestApp, logout_rp: RP, alice: Account) -> tuple[Flow, dict[str, Any]]:
    """Alice signed in at a client with JWT access tokens; its token response."""
    flow = offline_flow(app, logout_rp, alice)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200, response.text
    return flow, response.json


def still_signed_in(flow: Flow) -> bool:
    location = flow.start(prompt="none").headers["Location"]
    return "code" in query_of(location)


def forgeries(flow: Flow, genuine: str) -> dict[str, str]:
    """The forged tokens of T-52 made from ``genuine`` (the foreign-client entry is for
    hints only: another client's access token is a valid access token)."""
    forged = _forged_hints(flow, genuine, "x.y.z")
    forged.pop("another client's token (wrong aud)")
    return forged


def test_forged_jwt_access_tokens_are_refused_at_userinfo_and_introspection(
    signed_in: tuple[Flow, dict[str, Any]], logout_rp: RP
) -> None:
    """T-52: alg none, HS256 with our public key, an embedded or foreign key, jku/x5u,
    unknown kid, crit, changed body, cut signature: 401 invalid_token; inactive."""
    flow, tokens = signed_in
    genuine = tokens["access_token"]
    assert genuine.count(".") == 2  # a JWT
    for name, forged in forgeries(flow, genuine).items():
        response = flow.app.get(
            "/userinfo", headers={"Authorization": f"Bearer {forged}"}, expect_errors=True
        )
        assert response.status_int in (400, 401), (name, response.status)
        if response.status_int == 401:
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"], name
        introspected = flow.app.post(
            "/introspect",
            {"token": forged},
            headers=basic(logout_rp),
            expect_errors=True,
        )
        assert introspected.status_int == 200, (name, introspected.status)
        assert introspected.json == {"active": False}, name
    ok = flow.app.get("/userinfo", headers={"Authorization": f"Bearer {genuine}"})
    assert ok.json["sub"] == flow.user.subject


def test_forged_id_token_hints_never_sign_anyone_out(
    signed_in: tuple[Flow, dict[str, Any]], logout_rp: RP
) -> None:
    """T-52 at the end-session endpoint: an error page, no redirect, still signed in."""
    flow, tokens = signed_in
    for name, forged in _forged_hints(flow, tokens["id_token"], "x.y.z").items():
        params = {"id_token_hint": forged, "post_logout_redirect_uri": BYE, "state": "s"}
        response = flow.app.get("/end_session?" + urlencode(params), expect_errors=True)
        assert response.status_int == 400, (name, response.status)
        assert "Location" not in response.headers, name
        assert "Traceback" not in response.text, name
    assert still_signed_in(flow)


def _quick(call: Any) -> webtest.TestResponse:
    """The fastest of three answers (generous bounds, robust on a loaded machine)."""
    timings = []
    response = None
    for _ in range(3):
        started = time.perf_counter()
        response = call()
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.05, timings
    return response


MEGABYTE_JWT = "eyJhbGciOiJSUzI1NiJ9." + "a" * 1_000_000 + ".c2ln"


@pytest.mark.parametrize("path", ["/userinfo", "/introspect", "/revoke", "/token"])
def test_a_1mb_jwt_in_the_authorization_header_is_431_within_50ms(
    app: webtest.TestApp, path: str
) -> None:
    """T-53: refused by the header size limit before anything parses it."""
    response = _quick(
        lambda: app.post(
            path, {}, headers={"Authorization": f"Bearer {MEGABYTE_JWT}"}, expect_errors=True
        )
    )
    assert response.status_int == 431
    assert response.json["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_1mb_id_token_hint_at_end_session_is_refused_within_50ms(
    signed_in: tuple[Flow, dict[str, Any]], method: str
) -> None:
    """T-53: 414 in a query, 413 in a body; the user stays signed in."""
    flow, _ = signed_in
    body = urlencode({"id_token_hint": MEGABYTE_JWT}).encode()
    if method == "GET":
        response = _quick(lambda: flow.app.get("/end_session?" + body.decode(), expect_errors=True))
        assert response.status_int == 414
    else:
        response = _quick(
            lambda: flow.app.post(
                "/end_session",
                body,
                content_type="application/x-www-form-urlencoded",
                expect_errors=True,
            )
        )
        assert response.status_int == 413
    assert "Location" not in response.headers
    assert still_signed_in(flow)
