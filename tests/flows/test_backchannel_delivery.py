"""Where back-channel logout tokens may go (issue 14: hardening from outside review).

A client's ``backchannel_logout_uri`` makes the provider connect to a host the client
chose, from inside the provider's network.  Real servers on 127.0.0.1 answer: one
redirecting to an FTP listener or to another HTTP server, one behind a proxy named in the
environment, one over TLS, one too slow to answer in time.  A failed delivery stays in
the table, undelivered, for its retry.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from typing import Any

import pytest

from oidc_core import Provider, backchannel
from oidc_core.storage import Storage
from tests.conftest import FAST_PASSWORDS, LOOPBACK_RPS, make_client, make_user, new_app
from tests.flows.test_backchannel_logout import bc_client
from tests.flows.test_logout import end_session
from tests.support.conformance_basic_op import id_token_of
from tests.support.flow import RP, Account, Flow
from tests.support.listener import Listener
from tests.support.mounts import Mount, MountedApp, settings_for
from tests.support.proxy import Proxy
from tests.support.receiver import Receiver, serve_receiver
from tests.support.tls import TLSFiles

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy")


def sign_in_and_out(flow: Flow) -> None:
    """Sign in at ``flow``'s client, then sign out of the provider (a logout token queued)."""
    token = id_token_of(flow, flow.authorize())
    assert end_session(flow, id_token_hint=token["_raw"]).status_int == 200


def first_attempt(storage: Storage, timeout: float = 10.0) -> list[str]:
    """How the first attempt of each queued delivery ended: ``delivered``, or ``failed``
    (its retry scheduled ``RETRY_DELAY``, 10 s, ahead; a claim is 35 s ahead)."""
    sql = "SELECT attempts, delivered_at, next_attempt_at FROM oidc_backchannel_delivery"
    deadline = time.monotonic() + timeout
    while True:
        rows = storage.database.execute_sql(sql + " ORDER BY id").fetchall()
        outcomes = [
            "delivered"
            if delivered is not None
            else "failed"
            if attempts and (next_at is None or next_at < time.time() + 20)
            else "pending"
            for attempts, delivered, next_at in rows
        ]
        if rows and "pending" not in outcomes:
            return outcomes
        assert time.monotonic() < deadline, rows
        time.sleep(0.02)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_ftp_is_a_failed_delivery_and_never_followed(
    app: MountedApp,
    storage: Storage,
    receiver: Receiver,
    listener: Listener,
    alice: Account,
    status: int,
) -> None:
    receiver.statuses = [status]
    receiver.location = f"ftp://127.0.0.1:{listener.port}/"
    sign_in_and_out(Flow(app, bc_client(storage, receiver, "/bc"), alice))
    receiver.wait_for(1)
    assert first_attempt(storage) == ["failed"]
    time.sleep(0.3)
    assert listener.connections == []  # nothing spoke FTP, or anything, to it
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_http_uri_is_a_failed_delivery_and_never_followed(
    app: MountedApp, storage: Storage, receiver: Receiver, alice: Account, status: int
) -> None:
    with serve_receiver() as elsewhere:
        receiver.statuses = [status]
        receiver.location = elsewhere.uri("/elsewhere")
        sign_in_and_out(Flow(app, bc_client(storage, receiver, "/bc"), alice))
        receiver.wait_for(1)
        assert first_attempt(storage) == ["failed"]
        time.sleep(0.3)
        assert elsewhere.gets == [] and elsewhere.received == []


def test_proxies_named_in_the_environment_are_not_used(
    app: MountedApp,
    storage: Storage,
    receiver: Receiver,
    listener: Listener,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    # urllib builds its default opener from the environment when first used: from now on,
    # and again from the restored environment after the test
    urllib.request.install_opener(None)
    request.addfinalizer(lambda: urllib.request.install_opener(None))
    sign_in_and_out(Flow(app, bc_client(storage, receiver, "/bc"), alice))
    receiver.wait_for(1)
    assert first_attempt(storage) == ["delivered"]
    assert listener.connections == []


def own_provider(
    storage: Storage, database_url: str, **options: Any
) -> tuple[Provider, MountedApp]:
    """A provider of its own with a public issuer and ``options``; by default private
    addresses are refused."""
    settings = settings_for("standalone", database_url, **FAST_PASSWORDS, **options)
    provider = Provider(settings, storage=storage)
    return provider, Mount("standalone", "", provider, provider).browser()


def public_provider(storage: Storage, database_url: str) -> tuple[Provider, MountedApp]:
    """A provider with a public issuer and the default settings: private addresses
    refused."""
    provider, browser = own_provider(storage, database_url)
    assert provider.settings.backchannel_allow_private_addresses is None
    assert not provider.settings.backchannel_private_addresses_allowed
    return provider, browser


def test_a_host_resolving_to_a_private_address_is_refused_by_default(
    storage: Storage, database_url: str, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    provider, browser = public_provider(storage, database_url)
    user = make_user(provider, "private-rp@example.com", "a long enough password")
    by_address = bc_client(storage, receiver, "/by-address")
    by_name = make_client(
        storage,
        "By name",
        ["https://rp.example/cb"],
        backchannel_logout_uri=f"http://localhost:{receiver.port}/by-name",
    )
    caplog.set_level(logging.WARNING, logger=backchannel.__name__)
    first = Flow(browser, by_address, user)
    id_token_of(first, first.authorize())
    sign_in_and_out(Flow(browser, by_name, user))  # one session: both notified
    assert first_attempt(storage) == ["failed", "failed"]
    time.sleep(0.3)
    assert receiver.received == []
    refused = [r.getMessage() for r in caplog.records if "which is not public" in r.getMessage()]
    assert any("127.0.0.1 resolves to 127.0.0.1" in m for m in refused), refused
    assert any("localhost resolves to" in m for m in refused), refused


def test_https_keeps_the_host_name_for_sni_the_certificate_and_the_host_header(
    app: MountedApp,
    storage: Storage,
    alice: Account,
    tls_files: TLSFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))
    with serve_receiver(tls=tls_files) as receiver:
        client = tls_client(storage, receiver, "/bc")
        sign_in_and_out(Flow(app, client, alice))
        receiver.wait_for(1)
        assert first_attempt(storage) == ["delivered"]
        assert receiver.server_names == ["localhost"]
        assert receiver.hosts == [f"localhost:{receiver.port}"]


def test_https_to_an_untrusted_certificate_is_a_failed_delivery(
    app: MountedApp,
    storage: Storage,
    alice: Account,
    tls_files: TLSFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's CAs: not ours
    with serve_receiver(tls=tls_files) as receiver:
        sign_in_and_out(Flow(app, tls_client(storage, receiver, "/bc"), alice))
        assert first_attempt(storage) == ["failed"]
        assert receiver.received == []


def tls_client(storage: Storage, receiver: Receiver, path: str) -> RP:
    return make_client(
        storage,
        f"TLS {path}",
        ["https://rp.example/cb"],
        backchannel_logout_uri=f"https://localhost:{receiver.port}{path}",
    )


def test_a_slow_client_does_not_hold_up_deliveries_to_others(
    app: MountedApp,
    storage: Storage,
    alice: Account,
    bob: Account,
    provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client that takes 3 s to answer (the timeout is 3 s too) while another client's
    user signs out: that one is notified at once, not after the slow attempt."""
    monkeypatch.setattr(backchannel, "TIMEOUT", 3.0)
    monkeypatch.setattr(backchannel, "POLL_INTERVAL", 0.05)
    with serve_receiver() as slow, serve_receiver() as fast:
        slow.delay = 3.5
        sign_in_and_out(Flow(app, bc_client(storage, slow, "/slow"), alice))
        slow.wait_for(1)  # its attempt has begun
        sign_in_and_out(Flow(new_app(provider), bc_client(storage, fast, "/fast"), bob))
        signed_out = time.monotonic()
        fast.wait_for(1, timeout=5)
        assert time.monotonic() - signed_out < 1.0
        assert first_attempt(storage) == ["failed", "delivered"]


def test_a_slow_client_with_many_deliveries_takes_only_its_share(
    app: MountedApp,
    storage: Storage,
    alice: Account,
    bob: Account,
    provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ten logout tokens wait for a client that takes 3 s to answer (as ten sign-outs
    queued them): two are attempted at once, not as many as the sender's threads, and
    another client's user signing out meanwhile is notified at once."""
    monkeypatch.setattr(backchannel, "TIMEOUT", 3.0)
    monkeypatch.setattr(backchannel, "POLL_INTERVAL", 0.05)
    with serve_receiver() as slow, serve_receiver() as fast:
        slow.delay = 3.5
        client = bc_client(storage, slow, "/slow")
        record = storage.clients.by_client_id(client.client_id)
        assert record is not None
        tokens = [
            (record.id, backchannel.logout_token(provider, record, alice.subject, f"s{n}"))
            for n in range(10)
        ]
        storage.sessions.end(0, tokens)
        provider.backchannel.wake()
        slow.wait_for(backchannel.ATTEMPTS_PER_HOST)
        sign_in_and_out(Flow(app, bc_client(storage, fast, "/fast"), bob))
        signed_out = time.monotonic()
        fast.wait_for(1, timeout=5)
        assert time.monotonic() - signed_out < 1.0
        assert len(slow.received) == backchannel.ATTEMPTS_PER_HOST


def test_a_configured_proxy_carries_http_deliveries(
    storage: Storage, database_url: str, receiver: Receiver, proxy: Proxy
) -> None:
    provider, browser = own_provider(
        storage, database_url, backchannel_proxy=proxy.url, **LOOPBACK_RPS
    )
    user = make_user(provider, "proxied@example.com", "a long enough password")
    sign_in_and_out(Flow(browser, bc_client(storage, receiver, "/bc"), user))
    assert first_attempt(storage) == ["delivered"]
    assert proxy.requests == [("POST", receiver.uri("/bc"))]
    assert len(receiver.tokens("/bc")) == 1


def test_a_configured_proxy_tunnels_https_deliveries(
    storage: Storage,
    database_url: str,
    proxy: Proxy,
    tls_files: TLSFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))
    provider, browser = own_provider(
        storage, database_url, backchannel_proxy=proxy.url, **LOOPBACK_RPS
    )
    user = make_user(provider, "tunnelled@example.com", "a long enough password")
    with serve_receiver(tls=tls_files) as receiver:
        sign_in_and_out(Flow(browser, tls_client(storage, receiver, "/bc"), user))
        assert first_attempt(storage) == ["delivered"]
        assert proxy.requests == [("CONNECT", f"localhost:{receiver.port}")]
        assert receiver.server_names == ["localhost"]  # TLS from end to end
        assert receiver.hosts == [f"localhost:{receiver.port}"]


def test_through_a_proxy_private_addresses_and_localhost_are_still_refused(
    storage: Storage, database_url: str, receiver: Receiver, proxy: Proxy
) -> None:
    provider, browser = own_provider(storage, database_url, backchannel_proxy=proxy.url)
    user = make_user(provider, "proxied@example.com", "a long enough password")
    by_name = make_client(
        storage,
        "By name",
        ["https://rp.example/cb"],
        backchannel_logout_uri=f"http://localhost:{receiver.port}/by-name",
    )
    first = Flow(browser, bc_client(storage, receiver, "/by-address"), user)
    id_token_of(first, first.authorize())
    sign_in_and_out(Flow(browser, by_name, user))
    assert first_attempt(storage) == ["failed", "failed"]
    assert proxy.requests == [] and receiver.received == []
