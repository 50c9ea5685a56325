"""Control characters and bytes that are not UTF-8 in the CLI's arguments and in what it
prints (issue 14 item 3).
"""

from __future__ import annotations

import json
import re

import pytest

from oidc_core.records import ClientFields
from oidc_core.storage import Audit
from tests.support.cli import Cli
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.cli_admin import CB, Capsys, create, ok, refused, storage_of
from tests.support.cli_admin import cli as cli

# -- control characters (issue 14 item 3) ---------------------------------------------------

TERMINAL_CONTROL = ["\x1b[2J", "\x07", "\r", "\x1b]0;owned\x07", "\u202e"]


@pytest.mark.parametrize("control", TERMINAL_CONTROL)
def test_control_characters_in_names_and_descriptions_are_refused(
    cli: Cli, capsys: Capsys, control: str
) -> None:
    name = f"Evil{control}app"
    refused(cli("client", "create", "--name", name, "--redirect-uri", CB, capsys=capsys),
            "invalid client_name: must not contain control characters")  # fmt: skip
    refused(cli("client", "create", "--name", "RP", "--redirect-uri", CB, "--description",
                name, capsys=capsys), "invalid description: must not contain control")  # fmt: skip
    refused(cli("admin-token", "create", "--name", name, capsys=capsys),
            "invalid name: must not contain control characters")  # fmt: skip
    created = create(cli, capsys)
    refused(cli("client", "update", created["client_id"], "--name", name, capsys=capsys),
            "invalid client_name:")  # fmt: skip
    assert cli.rows("SELECT name, description FROM oidc_client") == [("Test RP", "")]
    assert cli.rows("SELECT COUNT(*) FROM oidc_admin_token") == [(0,)]


# Python decodes an argument that is not UTF-8 (a shell's $'\xff') with surrogateescape.
NOT_UTF8_ARGUMENT = "\udcff"


def test_arguments_that_are_not_utf8_are_refused_naming_the_option(
    cli: Cli, capsys: Capsys
) -> None:
    bad = f"x{NOT_UTF8_ARGUMENT}"
    for option, field in [("--name", "client_name"), ("--description", "description"),
                          ("--url", "client_uri"), ("--logo-uri", "logo_uri"),
                          ("--redirect-uri", "redirect_uris")]:  # fmt: skip
        value = bad if option in ("--name", "--description") else f"https://rp.example/{bad}"
        args = {"--name": "RP", "--redirect-uri": CB, option: value}
        argv = [item for pair in args.items() for item in pair]
        refused(cli("client", "create", *argv, capsys=capsys), f"invalid {field}:")
    refused(cli("admin-token", "create", "--name", bad, capsys=capsys), "invalid name:")
    assert cli.rows("SELECT COUNT(*) FROM oidc_client") == [(0,)]
    assert cli.rows("SELECT COUNT(*) FROM oidc_admin_token") == [(0,)]


def test_stored_control_characters_are_printed_escaped(cli: Cli, capsys: Capsys) -> None:
    """Rows stored before control characters were refused (written here through storage,
    as an older version did) are listed and shown with those characters escaped."""
    hostile = "Evil\x1b]0;owned\x07\x1b[2J\r\x00\u202eppa"
    with storage_of(cli) as storage:
        client, _ = storage.clients.create(
            ClientFields(name=hostile, description=hostile + "\n!", redirect_uris=(CB,))
        )
        storage.admin_tokens.create(hostile, Audit("cli:older", "admin_token.create"))
    outputs = [
        ok(cli("client", "list", capsys=capsys)),
        ok(cli("client", "show", client.client_id, capsys=capsys)),
        ok(cli("admin-token", "list", capsys=capsys)),
    ]
    escaped_name = "Evil\\x1b]0;owned\\x07\\x1b[2J\\r\\x00\\u202eppa"
    for output in outputs:
        assert not any(ch in output for ch in "\x1b\x07\r\x00\u202e"), repr(output)
        assert escaped_name[:30] in output
    shown = outputs[1]
    assert re.search(rf"^client_name\s+{re.escape(escaped_name)}$", shown, re.MULTILINE)
    assert re.search(rf"^description\s+{re.escape(escaped_name)}\\n!$", shown, re.MULTILINE)
    listed = json.loads(ok(cli("client", "list", "--json", capsys=capsys)))
    assert listed[0]["client_name"] == hostile  # JSON escapes them itself
