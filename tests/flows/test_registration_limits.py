"""What a server registering itself cannot stretch: the initial access token's host limit
binds every URI of the client (the sector document before it is fetched, and the URIs the
consent page shows), a hostile sector document is refused rather than crashing, and an
RFC 7592 update never fetches a sector document while it holds the database's write lock.
(Found by a security review of issue 17; each docstring tells the attack.)
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.support.registration import METADATA, REGISTER, Registered, issue, refused, register
from tests.support.sector_server import SectorServer
from tests.support.sector_server import sector_server as sector_server
from tests.support.snapshot import database

pytestmark = pytest.mark.mounts("one")


def limited(provider: Provider, uses: int = 1) -> str:
    """An initial access token for openid email, the code grant, and server1.example."""
    _, token = issue(
        provider,
        uses=uses,
        allowed_scopes=("openid", "email"),
        allowed_grant_types=("authorization_code",),
        allowed_redirect_hosts=("server1.example",),
    )
    return token


ON_HOST = {
    **METADATA,
    "scope": "openid email",
    "redirect_uris": ["https://server1.example/cb"],
}


def test_rfc7592_put_does_not_fetch_the_sector_document_inside_a_transaction(
    app: webtest.TestApp,
    provider: Provider,
    sector_server: SectorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server holding a registration access token PUTs a new ``sector_identifier_uri``.

    ``ClientAdmin.checked_fields`` says the sector document must be fetched outside any
    transaction, and ``POST /register`` does so.  ``PUT /register/<id>``
    (endpoints/registration.py ``_update``) calls ``clients.change`` inside
    ``storage.transaction()`` after rotating the token, so the fetch (up to the time limit,
    and longer with a server that trickles its headers) runs with the client row locked
    and, on SQLite (``BEGIN IMMEDIATE``), with the whole database's write lock held: every
    sign-in and token request of the provider waits or fails with "database is locked"
    meanwhile.  Expected: no fetch while a transaction is open, as for POST.
    """
    seen: list[bool] = []
    real = provider.clients._fetch_sector

    def watching(uri: str) -> list[str]:
        seen.append(provider.storage.database.in_transaction())
        return real(uri)

    monkeypatch.setattr(provider.clients, "_fetch_sector", watching)
    uri = sector_server.serve("/sector.json", ["https://server1.example/cb"])
    _, token = issue(provider)
    client = Registered(app, register(app, token, {**ON_HOST, "subject_type": "pairwise"}))
    assert seen == []  # registered from its redirect URIs' host: nothing fetched
    second = sector_server.serve("/second.json", ["https://server1.example/cb"])
    client.replace(sector_identifier_uri=uri)
    client.replace(sector_identifier_uri=second)
    assert len(seen) == 2
    assert seen == [False, False], "the sector document was fetched inside a DB transaction"


def test_initial_access_token_host_limit_binds_the_sector_identifier_uri(
    app: webtest.TestApp, provider: Provider, storage: Storage, sector_server: SectorServer
) -> None:
    """An initial access token limited to redirect hosts ``server1.example`` registers a
    client whose ``sector_identifier_uri`` is on any other host (here 127.0.0.1).

    ``check_limits`` (self_registration.py) checks the redirect, post-logout and back-channel
    URIs, never the ``sector_identifier_uri``: the server makes the provider fetch from
    hosts the administrator never allowed, and chooses the sector (the URI's host, OIDC
    Core 8.1) of its users' ``sub`` values, e.g. a shared host where another relying party
    keeps its own sector document.  Expected: ``invalid_client_metadata`` naming the field
    and the initial access token, nothing fetched, nothing stored, the token not spent;
    the same for an RFC 7592 update of a client registered with such a token.
    """
    token = limited(provider, uses=2)
    uri = sector_server.serve("/sector.json", ["https://server1.example/cb"])
    before = database(storage)
    body = {**ON_HOST, "subject_type": "pairwise", "sector_identifier_uri": uri}
    error = refused(app, "POST", REGISTER, token, body, status=400)
    assert error["error"] == "invalid_client_metadata"
    assert "sector_identifier_uri" in error["error_description"]
    assert "initial access token" in error["error_description"]
    assert sector_server.gets == []
    storage.release()
    assert database(storage) == before


def test_initial_access_token_host_limit_binds_the_sector_identifier_uri_on_update(
    app: webtest.TestApp, provider: Provider, storage: Storage, sector_server: SectorServer
) -> None:
    """The same as above through RFC 7592: a client registered within the limits PUTs a
    ``sector_identifier_uri`` on a host the token does not allow; expected refused, the
    client unchanged and its registration access token still in force."""
    token = limited(provider)
    client = Registered(app, register(app, token, {**ON_HOST, "subject_type": "pairwise"}))
    uri = sector_server.serve("/sector.json", ["https://server1.example/cb"])
    shown = {k: v for k, v in client.body.items() if k in ON_HOST or k == "client_id"}
    before = database(storage)
    error = refused(
        app, "PUT", client.path, client.token, {**shown, "sector_identifier_uri": uri}, status=400
    )
    assert error["error"] == "invalid_client_metadata"
    assert "sector_identifier_uri" in error["error_description"]
    storage.release()
    assert database(storage) == before


@pytest.mark.parametrize("field", ["client_uri", "logo_uri", "policy_uri", "tos_uri"])
def test_initial_access_token_host_limit_binds_the_uris_shown_on_the_consent_page(
    app: webtest.TestApp, provider: Provider, storage: Storage, field: str
) -> None:
    """A server whose token allows only ``server1.example`` registers ``client_uri``,
    ``logo_uri``, ``policy_uri`` or ``tos_uri`` on ``evil.example``: the consent page then
    shows a logo and links (privacy policy, terms) to a host the administrator never
    allowed for that server (a phishing page styled as the provider's).  ``check_limits``
    ignores these URIs.  Expected: refused as beyond the initial access token (the field
    named), nothing stored, the token not spent."""
    token = limited(provider)
    before = database(storage)
    body: dict[str, Any] = {**ON_HOST, field: "https://evil.example/page"}
    error = refused(app, "POST", REGISTER, token, body, status=400)
    assert error["error"] == "invalid_client_metadata"
    assert field in error["error_description"]
    assert "initial access token" in error["error_description"]
    storage.release()
    assert database(storage) == before


def test_a_nested_sector_document_is_invalid_client_metadata_not_a_crash(
    app: webtest.TestApp, provider: Provider, storage: Storage, sector_server: SectorServer
) -> None:
    """A hostile relying party serves a sector document of 5000 nested arrays (10 kB,
    far under the 64 KiB limit).  ``sectors._listed`` catches only ``ValueError`` from
    ``json.loads``; the decoder raises ``RecursionError``, which escapes every handler of
    the registration endpoint (and of the management API and console): an unhandled
    exception, a 500 ``server_error`` and a stack trace in the log, for anyone with an
    initial access token.  Expected: 400 ``invalid_client_metadata`` ("the document is
    not JSON"), nothing stored, the token not spent."""
    _, token = issue(provider)
    uri = sector_server.serve("/deep.json", body=b"[" * 5000 + b"]" * 5000)
    body = {**ON_HOST, "subject_type": "pairwise", "sector_identifier_uri": uri}
    before = database(storage)
    error = refused(app, "POST", REGISTER, token, body, status=400)  # 500 today
    assert error["error"] == "invalid_client_metadata"
    assert "sector_identifier_uri" in error["error_description"]
    storage.release()
    assert database(storage) == before
