"""A client imported with ``oidc-core client import`` signs users in with the id and secret
it already had: the code flow with client_secret_basic and client_secret_post, the ID token
verified with PyJWT against /jwks.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from oidc_core.admin.client_import import InvalidImport, entries
from oidc_core.admin.service import ClientAdmin
from oidc_core.storage import Storage
from tests.support.cli import Cli
from tests.support.flow import RP, Account, Flow, verify_id_token
from tests.support.mounts import MountedApp

pytestmark = pytest.mark.mounts("one")

CLIENT_ID = "legacy-rp_01.example"
SECRET = "an-existing-secret-from-the-old-provider~42"
CB = "https://legacy-rp.example/callback"


Importer = Callable[[str, str], int | str | None]


@pytest.fixture
def imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> Importer:  # fmt: skip
    """``oidc-core client import`` of a file (name, text) run in process on the provider's
    own database; its exit code."""
    cli = Cli(tmp_path / "unused.db", monkeypatch)
    monkeypatch.setenv("OIDC_DATABASE_URL", database_url)

    def run(file_name: str, text: str) -> int | str | None:
        path = tmp_path / file_name
        path.write_text(text, encoding="utf-8")
        return cli("client", "import", str(path), capsys=capsys).code

    return run


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_an_imported_client_completes_the_code_flow_with_its_secret(
    app: MountedApp, storage: Storage, alice: Account, imported: Importer, auth: str
) -> None:
    export = [{"client_id": CLIENT_ID, "client_secret": SECRET, "name": "Legacy RP",
               "redirect_uris": [CB], "allowed_scopes": "openid email"}]  # fmt: skip
    code = imported("e.json", json.dumps(export))
    assert code == 0
    client = storage.clients.by_client_id(CLIENT_ID)
    assert client is not None and client.name == "Legacy RP"

    flow = Flow(app, RP(CLIENT_ID, SECRET, [CB]), alice, scope="openid email")
    callback = flow.authorize()
    response = flow.token(callback["code"], auth=auth)
    assert response.status_int == 200, response.text
    claims = verify_id_token(app, response.json["id_token"], CLIENT_ID)
    assert claims["sub"] == alice.subject
    assert claims["aud"] == CLIENT_ID

    wrong = Flow(app, RP(CLIENT_ID, SECRET[:-1] + "x", [CB]), alice, scope="openid email")
    refused = wrong.token(flow.authorize()["code"], auth=auth)
    assert refused.status_int == 401
    assert refused.json["error"] == "invalid_client"


def test_an_id_with_a_colon_works_when_the_basic_credentials_are_form_urlencoded(
    app: MountedApp, alice: Account, imported: Importer
) -> None:
    client_id, secret = "tenant:app+1", "s%cret+with:colon-0123456789abcdef"
    export = [{"client_id": client_id, "client_secret": secret, "name": "T", "redirect_uris": [CB]}]
    assert imported("t.json", json.dumps(export)) == 0
    flow = Flow(app, RP(client_id, secret, [CB]), alice)
    code = flow.authorize()["code"]
    encoded = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    response = app.post(
        "/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": CB},
        headers={"Authorization": "Basic " + base64.b64encode(encoded).decode()},
        expect_errors=True,
    )
    assert response.status_int == 200, response.text
    verify_id_token(app, response.json["id_token"], client_id)


def test_importing_over_an_existing_client_is_refused_and_changes_nothing(
    app: MountedApp, alice: Account, imported: Importer
) -> None:
    first = f"client_id,client_secret,name,redirect_uris\r\n{CLIENT_ID},{SECRET},A,{CB}\r\n"
    assert imported("a.csv", first) == 0
    takeover = (
        "client_id,client_secret,name,redirect_uris\r\n"
        f"{CLIENT_ID},attacker-chosen-secret-0123456789,A,https://evil.example/cb\r\n"
    )
    code = imported("b.csv", takeover)
    assert isinstance(code, str) and code.startswith("nothing imported: line 2: client_id:")

    flow = Flow(app, RP(CLIENT_ID, SECRET, [CB]), alice)
    response = flow.token(flow.authorize()["code"])
    assert response.status_int == 200
    evil = Flow(app, RP(CLIENT_ID, "attacker-chosen-secret-0123456789", [CB]), alice)
    assert evil.token(evil.authorize()["code"]).status_int == 401
    assert evil.start(redirect_uri="https://evil.example/cb").status_int == 400


def test_an_id_taken_between_the_check_and_the_import_imports_nothing(storage: Storage) -> None:
    export = [
        {"client_id": "first-rp", "client_secret": SECRET, "name": "First", "redirect_uris": [CB]},
        {"client_id": CLIENT_ID, "client_secret": SECRET, "name": "Second", "redirect_uris": [CB]},
    ]
    admin = ClientAdmin(storage)
    checked = admin.checked_import(entries(json.dumps(export), "json"))
    # another import (or the console) takes the second id before this one stores anything
    storage.clients.create_imported(CLIENT_ID, "another-" + SECRET, checked[1].fields)
    with pytest.raises(InvalidImport) as refused:
        admin.import_clients(checked, "cli:test")
    assert (refused.value.where, refused.value.field) == ("entry 2", "client_id")
    assert storage.clients.by_client_id("first-rp") is None
    assert [entry.action for entry in storage.audit.entries(10, 0)] == []
