"""``oidc-core registration-token``: initial access tokens (RFC 7591 section 3) from the CLI."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.support.cli import Cli
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.cli_admin import ACTOR, Capsys, audit, ok, refused, sha256, storage_of
from tests.support.cli_admin import cli as cli

DAY = 86400


def test_create_list_revoke(cli: Cli, capsys: Capsys) -> None:
    started = int(time.time())
    printed = json.loads(ok(cli(
        "registration-token", "create", "--name", "cpanel-07", "--expires-in", "7d",
        "--uses", "5", "--scope", "openid", "--scope", "email", "--grant-type", "refresh_token",
        "--grant-type", "authorization_code", "--redirect-host", "CPanel-07.Example.net",
        "--redirect-host", "::1", "--json", capsys=capsys,
    )))  # fmt: skip
    value = printed.pop("token")
    assert len(value) >= 32
    assert started + 7 * DAY <= printed["expires_at"] <= int(time.time()) + 7 * DAY
    assert {k: printed[k] for k in ("name", "state", "created_by", "uses_allowed", "uses")} == {
        "name": "cpanel-07",
        "state": "live",
        "created_by": ACTOR,
        "uses_allowed": 5,
        "uses": 0,
    }
    assert printed["scopes"] == ["openid", "email"]
    assert printed["grant_types"] == ["authorization_code", "refresh_token"]
    assert printed["redirect_hosts"] == ["cpanel-07.example.net", "::1"]
    assert cli.rows(
        "SELECT token_digest, uses_allowed, allowed_scopes, allowed_grant_types, "
        "allowed_redirect_hosts FROM oidc_initial_access_token"
    ) == [
        (
            sha256(value),
            5,
            "openid email",
            "authorization_code refresh_token",
            "cpanel-07.example.net\n::1",
        )
    ]
    assert value.encode() not in cli.raw_bytes()

    text = ok(cli("registration-token", "create", "--name", "plain", capsys=capsys))
    other = re.search(r"^token: (\S+)$", text, re.M)
    assert other and "1 use(s)" in text and "shown only this once" in text

    listed = ok(cli("registration-token", "list", capsys=capsys))
    lines = listed.splitlines()
    assert lines[0].split() == ["id", "name", "expires", "uses", "state", "limits"]
    assert lines[1].endswith(
        "0/5        live     openid email; authorization_code refresh_token; "
        "cpanel-07.example.net ::1"
    )
    assert "0/1" in lines[2] and lines[2].rstrip().endswith("none")
    listed_json = json.loads(ok(cli("registration-token", "list", "--json", capsys=capsys)))
    assert [t["name"] for t in listed_json] == ["cpanel-07", "plain"]
    for output in (listed, json.dumps(listed_json)):
        assert value not in output and other.group(1) not in output and sha256(value) not in output

    assert ok(cli("registration-token", "revoke", str(printed["id"]), capsys=capsys)).strip() == (
        f"revoked registration token {printed['id']}"
    )
    with storage_of(cli) as storage:
        assert storage.initial_access_tokens.find(value) is None
        assert storage.initial_access_tokens.find(other.group(1)) is not None
    assert "revoked" in ok(cli("registration-token", "list", capsys=capsys)).splitlines()[1]
    refused(
        cli("registration-token", "revoke", str(printed["id"]), capsys=capsys),
        f"no unrevoked registration token with id {printed['id']}",
    )
    refused(cli("registration-token", "revoke", "999", capsys=capsys), "no unrevoked")

    entries = audit(cli)
    assert [(actor, action, target) for actor, action, target, _ in entries] == [
        (ACTOR, "initial_access_token.create", f"initial-access-token:{printed['id']}"),
        (ACTOR, "initial_access_token.create", f"initial-access-token:{printed['id'] + 1}"),
        (ACTOR, "initial_access_token.revoke", f"initial-access-token:{printed['id']}"),
    ]
    assert value not in json.dumps(entries) and sha256(value) not in json.dumps(entries)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--name", "  "], "invalid --name: must be 1 to 255 characters"),
        (["--name", "a\x1b]0;pwned\x07"], "invalid --name: must not contain control characters"),
        (["--name", "s", "--expires-in", "59"], "invalid --expires-in: must be between 60 and"),
        (["--name", "s", "--expires-in", "367d"], "invalid --expires-in: must be between 60 and"),
        (["--name", "s", "--expires-in", "1w"], "invalid --expires-in: must be a number of"),
        (["--name", "s", "--uses", "0"], "invalid --uses: must be between 1 and 1000"),
        (["--name", "s", "--uses", "1001"], "invalid --uses: must be between 1 and 1000"),
        (["--name", "s", "--uses", "many"], "invalid --uses: must be a whole number"),
        (["--name", "s", "--scope", "email"], "invalid --scope: must include openid"),
        (["--name", "s", "--scope", "openid", "--scope", "root"], "invalid --scope: unsupported"),
        (["--name", "s", "--grant-type", "password"], "invalid --grant-type: unsupported grant"),
        (["--name", "s", "--redirect-host", "*.example.com"], "invalid --redirect-host: "),
        (["--name", "s", "--redirect-host", "https://a.example"], "invalid --redirect-host: "),
        (["--name", "s", "--redirect-host", "a.example:2083"], "invalid --redirect-host: "),
        (["--name", "s", "--redirect-host", "a.example/cb"], "invalid --redirect-host: "),
    ],
)
def test_bad_options_are_named_and_nothing_is_created(
    cli: Cli, capsys: Capsys, options: list[str], message: str
) -> None:
    error = refused(cli("registration-token", "create", *options, capsys=capsys), message)
    assert "\x1b" not in error and "\x07" not in error
    assert cli.rows("SELECT COUNT(*) FROM oidc_initial_access_token") == [(0,)]
    assert audit(cli) == []
