"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0).

Certification modules of the Back-Channel OP plan: oidcc-backchannel-rp-initiated-logout
(a logout token to every client signed in in the session, sid included when the client
asks for it), and the logout token checks of section 2.4 / 2.6 (typ logout+jwt, iss, aud,
iat, exp, jti, events, sub, sid, no nonce) verified with PyJWT; delivery off the user's
request, retried with back-off.  A real HTTP server on 127.0.0.1 receives the POSTs.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import webtest

from oidc_core import Provider, backchannel
from oidc_core.storage import Storage
from tests.conftest import FAST_PASSWORDS, LOOPBACK_RPS, make_client, make_user, new_app
from tests.flows.test_logout import confirm, end_session, still_signed_in
from tests.support.admin_api import CLIENTS, METADATA, Api, new_token
from tests.support.admin_console import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    client_form,
    create,
    post,
    sign_in,
    stored,
)
from tests.support.conformance_basic_op import id_token_of
from tests.support.flow import RP, Account, Flow, issuer_of
from tests.support.mounts import Mount, MountedApp, settings_for
from tests.support.receiver import Receiver

EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backchannel, "RETRY_DELAY", 0.05)
    monkeypatch.setattr(backchannel, "POLL_INTERVAL", 0.05)


def bc_client(storage: Any, receiver: Receiver, path: str, *, sid: bool = True) -> RP:
    return make_client(
        storage,
        f"BC {path}",
        ["https://rp.example/cb"],
        backchannel_logout_uri=receiver.uri(path),
        backchannel_logout_session_required=sid,
    )


def verify_logout_token(app: webtest.TestApp, token: str, audience: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt" and header["alg"] == "RS256", header
    jwks = app.get("/jwks").json
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer_of(app),
        options={"require": ["iss", "aud", "iat", "exp", "jti", "events", "sub"]},
    )
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 120
    assert abs(claims["iat"] - time.time()) < 30
    return claims


def test_discovery_advertises_backchannel_logout(app: webtest.TestApp) -> None:
    document = app.get("/.well-known/openid-configuration").json
    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True
    assert "sid" in document["claims_supported"]


def test_id_tokens_carry_the_sessions_sid(
    app: webtest.TestApp, client_a: RP, alice: Account, provider: Provider
) -> None:
    flow = Flow(app, client_a, alice)
    first = id_token_of(flow, flow.authorize())
    again = id_token_of(flow, flow.authorize())
    assert isinstance(first["sid"], str) and len(first["sid"]) >= 22
    assert again["sid"] == first["sid"]  # one browser session
    other = Flow(new_app(provider), client_a, alice)
    assert id_token_of(other, other.authorize())["sid"] != first["sid"]


def test_a_sign_in_as_another_user_gives_the_session_a_new_sid(storage: Storage) -> None:
    """The same user keeps the session's ``sid``; another user gets a new one, on every
    database (MySQL and MariaDB assign an UPDATE's columns in order)."""
    first = storage.users.create("sid-first@example.com", "not a hash")
    second = storage.users.create("sid-second@example.com", "not a hash")
    _, anonymous = storage.sessions.create(3600)

    def log_in(user_id: int) -> str | None:
        key = storage.sessions.log_in(
            anonymous.id, user_id, 3600, user_agent="test", ip_address="192.0.2.1"
        )
        session = storage.sessions.by_key(key)
        assert session is not None and session.user_id == user_id
        return session.sid

    signed_in = log_in(first.id)
    assert signed_in != anonymous.sid
    assert log_in(first.id) == signed_in
    assert log_in(second.id) not in (signed_in, anonymous.sid)


def test_logout_posts_a_logout_token_to_the_clients_of_the_session(
    app: webtest.TestApp,
    storage: Any,
    receiver: Receiver,
    alice: Account,
    bob: Account,
    provider: Provider,
) -> None:
    signed_in = bc_client(storage, receiver, "/bc")
    no_sid = bc_client(storage, receiver, "/no-sid", sid=False)
    bc_client(storage, receiver, "/never")  # alice never signs in here
    elsewhere = bc_client(storage, receiver, "/elsewhere")  # only bob, in his browser
    flow = Flow(app, signed_in, alice)
    token = id_token_of(flow, flow.authorize())
    Flow(app, no_sid, alice).authorize()
    bobs = Flow(new_app(provider), elsewhere, bob)
    bobs.authorize()

    response = end_session(flow, id_token_hint=token["_raw"])
    assert response.status_int == 200 and "signed out" in response.text
    assert not still_signed_in(flow)
    receiver.wait_for(2)
    time.sleep(0.5)  # nothing else arrives
    assert sorted(path for path, _, _ in receiver.received) == ["/bc", "/no-sid"]
    for _, content_type, form in receiver.received:
        assert content_type == "application/x-www-form-urlencoded"
        assert set(form) == {"logout_token"} and len(form["logout_token"]) == 1

    [raw] = receiver.tokens("/bc")
    claims = verify_logout_token(app, raw, signed_in.client_id)
    assert set(claims) == {"iss", "aud", "iat", "exp", "jti", "events", "sub", "sid"}
    assert claims["sub"] == alice.subject == token["sub"]
    assert claims["sid"] == token["sid"]
    [raw_no_sid] = receiver.tokens("/no-sid")
    other = verify_logout_token(app, raw_no_sid, no_sid.client_id)
    assert "sid" not in other and other["sub"] == alice.subject
    assert other["jti"] != claims["jti"]
    assert still_signed_in(bobs)


def test_the_confirmed_logout_notifies_too(
    app: webtest.TestApp, storage: Any, receiver: Receiver, alice: Account
) -> None:
    client = bc_client(storage, receiver, "/bc")
    flow = Flow(app, client, alice)
    token = id_token_of(flow, flow.authorize())
    page = end_session(flow, client_id=client.client_id)
    assert page.status_int == 200 and "Sign out of" in page.text
    stayed = confirm(flow, page, decision="stay")
    assert stayed.status_int == 200
    time.sleep(0.3)
    assert receiver.received == []
    done = confirm(flow, page)
    assert done.status_int == 200 and "You are signed out" in done.text
    receiver.wait_for(1)
    [raw] = receiver.tokens("/bc")
    assert verify_logout_token(app, raw, client.client_id)["sid"] == token["sid"]


def test_a_failing_client_is_retried_until_it_answers(
    app: webtest.TestApp, storage: Any, receiver: Receiver, alice: Account, fast_retries: None
) -> None:
    receiver.statuses = [500, 500]
    client = bc_client(storage, receiver, "/bc")
    flow = Flow(app, client, alice)
    token = id_token_of(flow, flow.authorize())
    end_session(flow, id_token_hint=token["_raw"])
    receiver.wait_for(3)
    time.sleep(0.5)  # delivered: no fourth attempt
    tokens = receiver.tokens("/bc")
    assert len(tokens) == 3 and len(set(tokens)) == 1


def test_retries_stop_after_the_last_attempt(
    app: webtest.TestApp,
    storage: Any,
    receiver: Receiver,
    alice: Account,
    fast_retries: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backchannel, "MAX_ATTEMPTS", 3)
    receiver.statuses = [503] * 10
    client = bc_client(storage, receiver, "/bc")
    flow = Flow(app, client, alice)
    end_session(flow, id_token_hint=id_token_of(flow, flow.authorize())["_raw"])
    receiver.wait_for(3)
    time.sleep(0.5)
    assert len(receiver.tokens("/bc")) == 3


def test_a_slow_client_does_not_delay_the_logout(
    app: webtest.TestApp, storage: Any, receiver: Receiver, alice: Account
) -> None:
    receiver.delay = 5.0
    client = bc_client(storage, receiver, "/slow")
    flow = Flow(app, client, alice)
    token = id_token_of(flow, flow.authorize())
    started = time.monotonic()
    response = end_session(flow, id_token_hint=token["_raw"])
    elapsed = time.monotonic() - started
    assert response.status_int == 200 and elapsed < 3.0, elapsed  # the client takes 5 s
    receiver.wait_for(1)  # it is sent all the same


@pytest.mark.parametrize(
    "bad",
    [
        "https://rp.example/bc#x",
        "http://rp.example/bc",
        "rp.example/bc",
        "javascript:alert(1)",
        "https://rp.example/ bc",
        "https://" + "a" * 2100,
        1,
        ["https://rp.example/bc"],
    ],
)
def test_a_bad_backchannel_logout_uri_names_the_field(
    app: webtest.TestApp, provider: Provider, bad: Any
) -> None:
    admin = Api(app, new_token(provider)[1])
    response = admin.call("POST", CLIENTS, {**METADATA, "backchannel_logout_uri": bad}, status=400)
    assert response.json["field"] == "backchannel_logout_uri", bad
    assert admin.call("GET", CLIENTS, status=200).json["clients"] == []


def test_backchannel_metadata_through_the_management_api(
    app: webtest.TestApp, provider: Provider
) -> None:
    admin = Api(app, new_token(provider)[1])
    response = admin.call(
        "POST", CLIENTS, {**METADATA, "backchannel_logout_session_required": "yes"}, status=400
    )
    assert response.json["field"] == "backchannel_logout_session_required"
    created = admin.create(
        backchannel_logout_uri="https://panel.example/bc?x=1",
        backchannel_logout_session_required=True,
    )
    fetched = admin.get(created["client_id"])
    assert fetched["backchannel_logout_uri"] == "https://panel.example/bc?x=1"
    assert fetched["backchannel_logout_session_required"] is True
    plain = admin.create()
    assert plain["backchannel_logout_uri"] == ""
    assert plain["backchannel_logout_session_required"] is False


def test_signing_out_of_the_console_notifies_too(
    storage: Any, receiver: Receiver, provider: Provider
) -> None:
    admin = make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    browser = new_app(provider)
    assert sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    client = bc_client(storage, receiver, "/bc")
    flow = Flow(browser, client, admin)
    token = id_token_of(flow, flow.authorize())
    assert post(browser, "/admin/logout", []).status_int == 303
    receiver.wait_for(1)
    [raw] = receiver.tokens("/bc")
    claims = verify_logout_token(browser, raw, client.client_id)
    assert claims["sid"] == token["sid"] and claims["sub"] == admin.subject


def test_the_console_sets_the_backchannel_metadata(
    storage: Any, provider: Provider, receiver: Receiver
) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    browser = new_app(provider)
    assert sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    page = post(
        browser, "/admin/clients/new", client_form(backchannel_logout_uri="http://rp.example/bc")
    )
    assert page.status_int in (200, 400) and "backchannel_logout_uri-error" in page.text
    client_id, _ = create(
        browser,
        backchannel_logout_uri="https://app.example/bc",
        backchannel_logout_session_required="1",
    )
    client = stored(provider, client_id)
    assert client.backchannel_logout_uri == "https://app.example/bc"
    assert client.backchannel_logout_session_required is True
    form = browser.get(f"/admin/clients/{client_id}")
    assert 'value="https://app.example/bc"' in form.text


def another_process(storage: Storage, database_url: str) -> tuple[Provider, MountedApp]:
    """A new provider on the suite's database, as another worker process would be."""
    settings = settings_for("standalone", database_url, **FAST_PASSWORDS, **LOOPBACK_RPS)
    provider = Provider(settings, storage=storage)
    return provider, Mount("standalone", "", provider, provider).browser()


def test_deliveries_left_by_a_stopped_process_are_sent_by_another(
    storage: Storage, database_url: str, receiver: Receiver, alice: Account
) -> None:
    """A process that has had no sign-out starts its sender at a request when deliveries
    wait (queued by a process that stopped before sending them), and only then."""
    idle, idle_app = another_process(storage, database_url)
    idle_app.get("/.well-known/openid-configuration")
    assert not idle.backchannel.running  # nothing waits: no thread

    client = bc_client(storage, receiver, "/left")
    record = storage.clients.by_client_id(client.client_id)
    assert record is not None
    token = backchannel.logout_token(idle, record, alice.subject, "a-stopped-session")
    storage.sessions.end(0, [(record.id, token)])  # as the stopped process queued it

    other, other_app = another_process(storage, database_url)
    assert not other.backchannel.running
    other_app.get("/.well-known/openid-configuration")
    receiver.wait_for(1)
    assert receiver.tokens("/left") == [token]
    deadline = time.monotonic() + 10
    while other.backchannel.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not other.backchannel.running  # nothing left to attempt: the thread ends
