"""``oidc-core admin-token`` and ``user promote``: who may administer, from the CLI."""

from __future__ import annotations

import json
import re

from tests.support.cli import PASSWORD, Cli
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.cli_admin import ACTOR, Capsys, audit, ok, refused, sha256, storage_of
from tests.support.cli_admin import cli as cli

# -- admin-token --------------------------------------------------------------------------------


def test_admin_token_lifecycle(cli: Cli, capsys: Capsys) -> None:
    printed = json.loads(ok(cli("admin-token", "create", "--name", "deploy bot", "--json",
                                capsys=capsys)))  # fmt: skip
    assert set(printed) == {"id", "name", "scopes", "token"}
    assert printed["scopes"] == ["admin"]  # the default: everything
    token, token_id = printed["token"], printed["id"]
    assert printed["name"] == "deploy bot" and len(token) >= 32
    assert cli.rows(
        "SELECT id, token_digest, name, created_by, revoked_at FROM oidc_admin_token"
    ) == [(token_id, sha256(token), "deploy bot", ACTOR, None)]
    assert token.encode() not in cli.raw_bytes()
    other = ok(cli("admin-token", "create", "--name", "backup", capsys=capsys))
    other_token = re.search(r"token: (\S+)", other)
    assert other_token

    listed = ok(cli("admin-token", "list", capsys=capsys))
    assert "deploy bot" in listed and "backup" in listed
    assert listed.count("active") == 2
    listed_json = json.loads(ok(cli("admin-token", "list", "--json", capsys=capsys)))
    assert [item["name"] for item in listed_json] == ["deploy bot", "backup"]
    assert listed_json[0]["created_by"] == ACTOR and listed_json[0]["revoked_at"] is None
    for output in (listed, json.dumps(listed_json)):
        assert token not in output and other_token.group(1) not in output
        assert sha256(token) not in output

    with storage_of(cli) as storage:
        found = storage.admin_tokens.authenticate(token)
        assert found is not None and found.id == token_id
        assert storage.admin_tokens.authenticate(token + "x") is None

    revoked = ok(cli("admin-token", "revoke", str(token_id), capsys=capsys))
    assert revoked.strip() == f"revoked admin token {token_id}"
    with storage_of(cli) as storage:
        assert storage.admin_tokens.authenticate(token) is None
        assert storage.admin_tokens.authenticate(other_token.group(1)) is not None
    refused(
        cli("admin-token", "revoke", str(token_id), capsys=capsys),
        f"no active admin token with id {token_id}",
    )
    refused(cli("admin-token", "revoke", "999", capsys=capsys), "no active admin token")
    states = json.loads(ok(cli("admin-token", "list", "--json", capsys=capsys)))
    assert [item["revoked_at"] is not None for item in states] == [True, False]
    assert "revoked" in ok(cli("admin-token", "list", capsys=capsys))

    entries = audit(cli)
    assert [(actor, action, target) for actor, action, target, _ in entries] == [
        (ACTOR, "admin_token.create", f"admin-token:{token_id}"),
        (ACTOR, "admin_token.create", f"admin-token:{token_id + 1}"),
        (ACTOR, "admin_token.revoke", f"admin-token:{token_id}"),
    ]
    assert token not in json.dumps(entries) and sha256(token) not in json.dumps(entries)


def test_admin_token_scopes_are_stored_listed_and_audited(cli: Cli, capsys: Capsys) -> None:
    printed = json.loads(ok(cli("admin-token", "create", "--name", "provisioning",
                                "--scope", "clients:write", "--scope", "audit:read",
                                "--scope", "clients:write", "--json", capsys=capsys)))  # fmt: skip
    assert printed["scopes"] == ["audit:read", "clients:write"]
    assert cli.rows("SELECT name, scopes FROM oidc_admin_token") == [
        ("provisioning", "clients:write audit:read")
    ]
    text = ok(cli("admin-token", "create", "--name", "scraper", "--scope", "metrics:read",
                  capsys=capsys))  # fmt: skip
    assert "scopes metrics:read" in text
    listed = ok(cli("admin-token", "list", capsys=capsys)).splitlines()
    assert listed[0].split()[-2:] == ["state", "scopes"]
    assert listed[1].split()[-3:] == ["active", "audit:read", "clients:write"]
    assert listed[2].split()[-2:] == ["active", "metrics:read"]
    listed_json = json.loads(ok(cli("admin-token", "list", "--json", capsys=capsys)))
    assert [item["scopes"] for item in listed_json] == [
        ["audit:read", "clients:write"],
        ["metrics:read"],
    ]
    details = [json.loads(d) for _, action, _, d in audit(cli) if action == "admin_token.create"]
    assert details == [
        {"name": "provisioning", "scopes": ["clients:write", "audit:read"]},
        {"name": "scraper", "scopes": ["metrics:read"]},
    ]
    with storage_of(cli) as storage:
        found = storage.admin_tokens.authenticate(printed["token"])
        assert found is not None and found.scopes == ("audit:read", "clients:write")


def test_an_unknown_scope_is_refused_with_exit_2_and_nothing_created(
    cli: Cli, capsys: Capsys
) -> None:
    for scope in ("clients:delete", "ADMIN", ""):
        result = cli("admin-token", "create", "--name", "x", "--scope", scope, capsys=capsys)
        assert result.code == 2 and result.out == ""
        assert f"--scope: invalid choice: {scope!r}" in result.err
        assert "Traceback" not in result.err
    assert cli.rows("SELECT COUNT(*) FROM oidc_admin_token") == [(0,)]
    assert audit(cli) == []


def test_admin_token_name_is_required(cli: Cli, capsys: Capsys) -> None:
    for name in ("   ", "x" * 256):
        refused(cli("admin-token", "create", "--name", name, capsys=capsys), "invalid name:")
    assert cli.rows("SELECT COUNT(*) FROM oidc_admin_token") == [(0,)]
    assert audit(cli) == []


# -- user promote -----------------------------------------------------------------------------


def test_user_promote_and_demote(cli: Cli, capsys: Capsys) -> None:
    ok(cli("user", "create", "--email", "Erin@Example.com", "--password-stdin",
           stdin=PASSWORD + "\n", capsys=capsys))  # fmt: skip
    assert cli.rows("SELECT is_admin FROM oidc_user") == [(0,)]

    promoted = ok(cli("user", "promote", "--email", "erin@example.com", capsys=capsys))
    assert "erin@example.com is an administrator" in promoted
    assert cli.rows("SELECT is_admin FROM oidc_user") == [(1,)]
    demoted = ok(cli("user", "promote", "--email", "ERIN@example.com", "--demote", capsys=capsys))
    assert "no longer an administrator" in demoted
    assert cli.rows("SELECT is_admin FROM oidc_user") == [(0,)]

    refused(
        cli("user", "promote", "--email", "nobody@example.com", capsys=capsys),
        "no user with email nobody@example.com",
    )
    assert [(actor, action, target) for actor, action, target, _ in audit(cli)] == [
        (ACTOR, "user.promote", "erin@example.com"),
        (ACTOR, "user.demote", "erin@example.com"),
    ]
