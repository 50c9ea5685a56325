"""A client's ``require_mfa`` through the CLI (``--require-mfa``/``--no-require-mfa``) and
the management API (a boolean, refused otherwise)."""

from __future__ import annotations

import json

import webtest

from tests.support.admin_api import CLIENTS, Api
from tests.support.admin_api import admin as admin
from tests.support.admin_api import api_token as api_token
from tests.support.cli import Cli
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.cli_admin import Capsys, create, ok
from tests.support.cli_admin import cli as cli


def test_the_cli_sets_and_clears_require_mfa(cli: Cli, capsys: Capsys) -> None:
    client_id = create(cli, capsys, "--require-mfa")["client_id"]
    shown = json.loads(ok(cli("client", "show", client_id, "--json", capsys=capsys)))
    assert shown["require_mfa"] is True
    sql = f"SELECT require_mfa FROM oidc_client WHERE client_id = '{client_id}'"
    assert cli.rows(sql) == [(1,)]
    updated = json.loads(
        ok(cli("client", "update", client_id, "--no-require-mfa", "--json", capsys=capsys))
    )
    assert updated["require_mfa"] is False
    assert cli.rows(sql) == [(0,)]
    plain = create(cli, capsys, name="Plain")["client_id"]
    assert (
        json.loads(ok(cli("client", "show", plain, "--json", capsys=capsys)))["require_mfa"]
        is False
    )


def test_the_api_sets_require_mfa_and_refuses_a_non_boolean(
    admin: Api, app: webtest.TestApp
) -> None:
    created = admin.create(require_mfa=True)
    assert created["require_mfa"] is True
    assert admin.get(created["client_id"])["require_mfa"] is True
    admin.call("PATCH", f"{CLIENTS}/{created['client_id']}", {"require_mfa": False}, status=200)
    assert admin.get(created["client_id"])["require_mfa"] is False
    refused = admin.call(
        "POST",
        CLIENTS,
        {"client_name": "X", "redirect_uris": ["https://x.example/cb"], "require_mfa": "yes"},
        status=400,
    )
    assert "require_mfa" in refused.text
