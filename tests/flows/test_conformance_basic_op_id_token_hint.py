"""``id_token_hint``: genuine, expired, of another user, forged and huge (T-52, T-53).

Forged hints are made with PyJWT and ``cryptography``, never with the provider's JOSE code.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from oidc_core import Provider
from tests.conftest import new_app
from tests.support.conformance_basic_op import (
    STATE,
    _forged_hints,
    asks_to_log_in,
    code_rows,
    id_token_of,
    redirect_error,
    straight_back,
)
from tests.support.flow import RP, Account, Flow, query_of
from tests.support.timing import fastest_of

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


@pytest.mark.parametrize("consented", [True, False], ids=["consented", "not-consented"])
def test_signing_in_as_another_user_than_the_hinted_one_is_login_required(
    flow: Flow, bob: Account, provider: Provider, consented: bool
) -> None:
    """OIDC Core 3.1.2.1: the hinted user must be logged in, or logged in by the request.
    Bob's hint in Alice's browser shows the login page; Alice signs in as herself: no code
    (before any consent page), login_required at the client, the request used up."""
    bobs = Flow(new_app(provider), flow.client, bob)
    bob_token = id_token_of(bobs, bobs.authorize())
    if consented:
        flow.authorize()  # Alice's session and consent
    codes = code_rows(provider)
    page = asks_to_log_in(flow, id_token_hint=bob_token["_raw"], state=STATE)
    redirect_error(flow, flow.login(page), "login_required", status=303)
    assert code_rows(provider) == codes
    again = flow.login(page)  # the form again: its CSRF token died with the sign-in
    assert again.status_int == 403 and "Location" not in again.headers
    retry = flow.start(id_token_hint=bob_token["_raw"], state=STATE)  # Alice's session now
    assert retry.headers["Location"].startswith(flow.issuer + "/login?interaction=")
    assert code_rows(provider) == codes


def test_signing_in_as_the_hinted_user_gets_the_code(
    flow: Flow, bob: Account, provider: Provider
) -> None:
    """The login page shown for Bob's hint in Alice's browser; Bob signs in: his code."""
    bobs = Flow(new_app(provider), flow.client, bob)
    bob_token = id_token_of(bobs, bobs.authorize())
    flow.authorize()  # Alice is signed in in this browser
    page = asks_to_log_in(flow, id_token_hint=bob_token["_raw"], state=STATE)
    as_bob = Flow(flow.app, flow.client, bob)
    response = as_bob.login(page)
    assert response.status_int == 303, (response.status, response.text[:300])
    callback = query_of(response.headers["Location"])
    assert callback["state"] == STATE and "code" in callback, callback
    assert id_token_of(as_bob, callback)["sub"] == bob_token["sub"]


def test_id_token_hint_with_nobody_signed_in_is_login_required(flow: Flow) -> None:
    hint = id_token_of(flow, flow.authorize())["_raw"]
    flow.app.reset()  # another browser, no session
    redirect_error(
        flow, flow.start(prompt="none", id_token_hint=hint, state=STATE), "login_required"
    )


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
