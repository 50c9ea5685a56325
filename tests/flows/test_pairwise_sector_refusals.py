"""Refused pairwise metadata (OIDC Registration 5, OIDC Core 8.1): each refusal is a 400
``invalid_client_metadata`` naming ``sector_identifier_uri`` with a description that tells
the client what to fix (no address, no stack trace), and nothing is stored: no client, no
audit entry.  The ``sector_identifier_uri`` is fetched with the back-channel rules: https
only, no redirect followed, at most 64 KiB within the time limit, public addresses only
unless ``backchannel_allow_private_addresses`` allows others.

Validation is the same whatever the mount: these run under the first one.  The console's
client page shows and sets the subject type.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import webtest

from oidc_core import Provider, sectors
from oidc_core.storage import Storage
from tests.conftest import FAST_PASSWORDS, make_user
from tests.support.admin_api import CLIENTS, Api, error_of, new_token
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.admin_console import ADMIN_EMAIL, ADMIN_PASSWORD, create, sign_in, stored
from tests.support.mounts import Mount, settings_for
from tests.support.sector_server import SectorServer
from tests.support.sector_server import sector_server as sector_server

pytestmark = pytest.mark.mounts("one")

CB = "https://rp.example/cb"
OVER_LIMIT = sectors.MAX_DOCUMENT + 1


def snapshot(storage: Storage) -> tuple[list[tuple[Any, ...]], int]:
    db = storage.database
    clients = db.execute_sql(
        "SELECT client_id, redirect_uris, subject_type, sector_identifier_uri, "
        "sector_identifier, updated_at FROM oidc_client ORDER BY client_id"
    ).fetchall()
    audit = db.execute_sql("SELECT COUNT(*) FROM oidc_audit_log").fetchone()[0]
    return list(clients), audit


def refused(admin: Api, storage: Storage, field: str = "sector_identifier_uri", **data: Any) -> str:
    """POST a pairwise client with ``data``: refused, nothing stored; the description."""
    before = snapshot(storage)
    body = {"client_name": "Pairwise RP", "redirect_uris": [CB], "subject_type": "pairwise"}
    response = admin.call("POST", CLIENTS, {**body, **data}, status=400)
    error = error_of(response)
    assert error["error"] == "invalid_client_metadata", error
    assert error["field"] == field, error
    assert snapshot(storage) == before
    description: str = error["error_description"]
    # what the client sent may be echoed; nothing of the provider's network or code is
    internals = ("resolves", "Errno", "Error", "SSL", "Traceback", "(")
    assert not any(word in description for word in internals), description
    return description


def provider_api(storage: Storage, database_url: str, **options: Any) -> Api:
    """The management API of another provider on the suite's database, with ``options``."""
    settings = settings_for("standalone", database_url, **{**FAST_PASSWORDS, **options})
    provider = Provider(settings, storage=storage)
    app = Mount("standalone", "", provider, provider).browser()
    return Api(app, new_token(provider, "strict")[1])


def test_a_loopback_or_private_sector_uri_is_refused_unless_allowed(
    storage: Storage, database_url: str, sector_server: SectorServer
) -> None:
    strict = provider_api(storage, database_url, backchannel_allow_private_addresses=False)
    uri = sector_server.serve("/sector.json", [CB])
    assert "public address" in refused(strict, storage, sector_identifier_uri=uri)
    localhost = uri.replace("127.0.0.1", "localhost")
    assert "public address" in refused(strict, storage, sector_identifier_uri=localhost)
    private = "https://10.1.2.3/sector.json"
    assert "public address" in refused(strict, storage, sector_identifier_uri=private)
    assert sector_server.gets == []  # refused before connecting


def test_a_redirecting_sector_uri_is_refused(
    admin: Api, storage: Storage, sector_server: SectorServer
) -> None:
    target = sector_server.serve("/real.json", [CB])
    uri = sector_server.serve("/moved.json", status=302, headers={"Location": target})
    assert "redirect" in refused(admin, storage, sector_identifier_uri=uri)
    assert sector_server.gets == ["/moved.json"]  # the redirect is not followed


def test_an_http_sector_uri_is_refused(admin: Api, storage: Storage) -> None:
    for uri in ("http://127.0.0.1:9/sector.json", "http://rp.example/sector.json"):
        assert "https://" in refused(admin, storage, sector_identifier_uri=uri)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "streamed"])
def test_a_sector_document_too_large_is_refused(
    admin: Api, storage: Storage, sector_server: SectorServer, declared: bool
) -> None:
    body = b'["' + CB.encode() + b'", "' + b"x" * OVER_LIMIT + b'"]'
    uri = sector_server.serve("/big.json", body=body, send_length=declared)
    assert f"over {sectors.MAX_DOCUMENT} bytes" in refused(
        admin, storage, sector_identifier_uri=uri
    )


def test_a_sector_document_too_slow_is_refused(
    storage: Storage,
    database_url: str,
    sector_server: SectorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sectors, "TIMEOUT", 1.0)
    quick = provider_api(storage, database_url, backchannel_allow_private_addresses=True)
    # Each byte arrives well within the time limit, the whole document never does.
    body = ('["' + CB + '"]').encode() + b" " * 100
    uri = sector_server.serve("/slow.json", body=body, trickle=0.1)
    assert "within 1 seconds" in refused(quick, storage, sector_identifier_uri=uri)


def test_a_sector_document_whose_headers_never_end_is_refused_in_time(
    storage: Storage,
    database_url: str,
    sector_server: SectorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The time limit covers the status line and the headers too: a server that sends a
    header a byte every 0.1 s (http.client's per-read timeout never fires) is cut off at
    the limit, not when it chooses to finish."""
    monkeypatch.setattr(sectors, "TIMEOUT", 1.0)
    quick = provider_api(storage, database_url, backchannel_allow_private_addresses=True)
    uri = sector_server.serve("/headers.json", [CB], slow_header=4.0)
    started = time.monotonic()
    assert "within 1 seconds" in refused(quick, storage, sector_identifier_uri=uri)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>a sector</html>", "not JSON"),
        (b"[" * 5000, "not JSON"),  # nested past Python's recursion limit
        (b"\xff\xfe[]", "not JSON"),
        (b'{"redirect_uris": ["https://rp.example/cb"]}', "JSON array of strings"),
        (b'["https://rp.example/cb", 7]', "JSON array of strings"),
        (b'"https://rp.example/cb"', "JSON array of strings"),
    ],
    ids=["html", "nested", "not-utf8", "object", "mixed-array", "string"],
)
def test_a_sector_document_not_an_array_of_strings_is_refused(
    admin: Api, storage: Storage, sector_server: SectorServer, body: bytes, message: str
) -> None:
    uri = sector_server.serve("/sector.json", body=body)
    assert message in refused(admin, storage, sector_identifier_uri=uri)


def test_a_sector_document_missing_a_redirect_uri_is_refused(
    admin: Api, storage: Storage, sector_server: SectorServer
) -> None:
    uri = sector_server.serve("/sector.json", [CB])
    description = refused(
        admin,
        storage,
        sector_identifier_uri=uri,
        redirect_uris=[CB, "https://rp.example/cb2"],
    )
    assert "https://rp.example/cb2" in description


def test_a_sector_uri_not_found_is_refused(
    admin: Api, storage: Storage, sector_server: SectorServer
) -> None:
    assert "answered 404" in refused(
        admin, storage, sector_identifier_uri=sector_server.uri("/none.json")
    )


def test_pairwise_with_several_redirect_hosts_needs_a_sector_uri(
    admin: Api, storage: Storage
) -> None:
    description = refused(admin, storage, redirect_uris=[CB, "https://other.example/cb"])
    assert "several hosts" in description


def test_an_unknown_subject_type_is_refused(admin: Api, storage: Storage) -> None:
    refused(admin, storage, field="subject_type", subject_type="secret")


def test_a_changed_redirect_uri_is_checked_against_the_sector_document_again(
    admin: Api, storage: Storage, sector_server: SectorServer
) -> None:
    uri = sector_server.serve("/sector.json", [CB, "https://other.example/cb"])
    created = admin.create(
        client_name="Two hosts",
        redirect_uris=[CB, "https://other.example/cb"],
        subject_type="pairwise",
        sector_identifier_uri=uri,
    )
    assert sector_server.gets == ["/sector.json"]
    before = snapshot(storage)
    path = f"{CLIENTS}/{created['client_id']}"
    response = admin.call(
        "PATCH", path, {"redirect_uris": ["https://third.example/cb"]}, status=400
    )
    assert error_of(response)["field"] == "sector_identifier_uri"
    assert snapshot(storage) == before
    admin.call("PATCH", path, {"client_name": "Renamed"}, status=200)
    assert sector_server.gets == ["/sector.json"] * 2  # not fetched for other changes


def test_the_console_shows_and_sets_the_subject_type(
    app: webtest.TestApp, provider: Provider
) -> None:
    make_user(provider, ADMIN_EMAIL, ADMIN_PASSWORD, is_admin=True)
    assert sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).status_int == 303
    client_id, _ = create(app, subject_type="pairwise")
    client = stored(provider, client_id)
    assert client.subject_type == "pairwise" and client.sector_identifier == "app.example"
    page = app.get(f"/admin/clients/{client_id}")
    assert 'value="pairwise" checked' in page.text
    assert "<code>app.example</code>" in page.text
