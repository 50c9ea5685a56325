"""``oidc-core client create|list|show|update|reset-secret|delete``, end to end on a fresh
SQLite file per test (:mod:`tests.support.cli_admin`), audited as ``cli:<login name>``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import webtest

from oidc_core import Provider, Settings
from tests.support.cli import Cli
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.cli_admin import (
    ACTOR,
    CB,
    OPERATOR,
    Capsys,
    audit,
    create,
    ok,
    refused,
    sha256,
    storage_of,
)
from tests.support.cli_admin import cli as cli


def client_row(cli: Cli, client_id: str, columns: str) -> tuple[Any, ...]:
    rows = cli.rows(f"SELECT {columns} FROM oidc_client WHERE client_id = '{client_id}'")
    assert len(rows) == 1
    return rows[0]


# -- client create / list / show -------------------------------------------------------------


def test_public_client(cli: Cli, capsys: Capsys) -> None:
    created = create(cli, capsys, "--public", "--no-require-pkce")
    assert created["client_secret"] is None
    assert client_row(cli, created["client_id"], "secret_digest, is_public, require_pkce") == (
        "",
        1,
        1,
    )
    plain = ok(cli("client", "create", "--name", "SPA", "--redirect-uri", CB, "--public",
                   capsys=capsys))  # fmt: skip
    assert "public client: no secret" in plain
    assert "client_secret" not in plain
    reset = cli("client", "reset-secret", created["client_id"], capsys=capsys)
    refused(reset, "invalid token_endpoint_auth_method:")
    assert client_row(cli, created["client_id"], "secret_digest") == ("",)


def test_client_list_never_shows_a_secret(cli: Cli, capsys: Capsys) -> None:
    first = create(cli, capsys, name="Alpha app")
    second = create(cli, capsys, "--description", "second", name="Bravo tool")
    secrets = [first["client_secret"], second["client_secret"]]
    plain = ok(cli("client", "list", capsys=capsys))
    lines = plain.splitlines()
    assert "client_id" in lines[0] and len(lines) == 3
    assert first["client_id"] in lines[1] and "Alpha app" in lines[1] and CB in lines[1]
    assert second["client_id"] in lines[2]
    listed = json.loads(ok(cli("client", "list", "--json", capsys=capsys)))
    assert [item["client_name"] for item in listed] == ["Alpha app", "Bravo tool"]
    assert listed[0]["client_id"] == first["client_id"]
    assert listed[0]["last_used_at"] is None
    for item in listed:
        assert not {"client_secret", "secret_digest", "previous_secret_digest"} & set(item)
    for secret in secrets:
        assert secret not in plain
        assert secret not in json.dumps(listed)
        assert sha256(secret) not in plain + json.dumps(listed)

    descending = json.loads(ok(cli("client", "list", "--json", "--sort=-name", capsys=capsys)))
    assert [item["client_name"] for item in descending] == ["Bravo tool", "Alpha app"]
    found = json.loads(ok(cli("client", "list", "--json", "--search", "bRaVo", capsys=capsys)))
    assert [item["client_id"] for item in found] == [second["client_id"]]
    limited = json.loads(ok(cli("client", "list", "--json", "--limit", "1", capsys=capsys)))
    assert [item["client_name"] for item in limited] == ["Alpha app"]
    refused(cli("client", "list", "--sort", "secret_digest", capsys=capsys), "invalid sort:")
    refused(cli("client", "list", "--limit", "0", capsys=capsys), "invalid limit:")


def test_client_show(cli: Cli, capsys: Capsys) -> None:
    created = create(cli, capsys, "--scope", "openid email", "--access-token-ttl", "120")
    client_id = created["client_id"]
    shown = json.loads(ok(cli("client", "show", client_id, "--json", capsys=capsys)))
    assert shown["client_id"] == client_id
    assert shown["redirect_uris"] == [CB]
    assert shown["scope"] == "email openid"
    assert shown["access_token_ttl"] == 120 and shown["id_token_ttl"] is None
    assert shown["token_endpoint_auth_method"] == "client_secret_basic"
    plain = ok(cli("client", "show", client_id, capsys=capsys))
    assert re.search(rf"^client_id\s+{re.escape(client_id)}$", plain, re.MULTILINE)
    assert re.search(r"^access_token_ttl\s+120$", plain, re.MULTILINE)
    for output in (plain, json.dumps(shown)):
        assert created["client_secret"] not in output
        assert "secret_digest" not in output
    refused(cli("client", "show", "nope", capsys=capsys), "no client with client_id 'nope'")


def test_client_show_and_update_say_when_the_client_was_last_used(cli: Cli, capsys: Capsys) -> None:
    created = create(cli, capsys, "--grant-type", "client_credentials")
    client_id = created["client_id"]
    shown = json.loads(ok(cli("client", "show", client_id, "--json", capsys=capsys)))
    assert shown["last_used_at"] is None
    before = int(time.time())
    with storage_of(cli) as storage:  # a real token request, on the CLI's database
        settings = Settings(issuer="https://op.example", database_url=f"sqlite:///{cli.path}")
        environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
        app = webtest.TestApp(Provider(settings, storage=storage), extra_environ=environ)
        app.authorization = ("Basic", (client_id, created["client_secret"]))
        issued = app.post("/token", {"grant_type": "client_credentials", "scope": "email"})
        assert issued.status_int == 200 and issued.json["access_token"]
    listed = json.loads(ok(cli("client", "list", "--json", capsys=capsys)))
    used = listed[0]["last_used_at"]
    assert isinstance(used, int) and before <= used <= time.time()
    shown = json.loads(ok(cli("client", "show", client_id, "--json", capsys=capsys)))
    assert shown["last_used_at"] == used
    plain = ok(cli("client", "show", client_id, capsys=capsys))
    assert re.search(rf"^last_used_at\s+{used}$", plain, re.MULTILINE)
    updated = json.loads(
        ok(cli("client", "update", client_id, "--description", "x", "--json", capsys=capsys))
    )
    assert updated["last_used_at"] == used


# -- client update ----------------------------------------------------------------------------


def test_client_update(cli: Cli, capsys: Capsys) -> None:
    created = create(cli, capsys, "--description", "kept", "--skip-consent")
    client_id = created["client_id"]
    digest = client_row(cli, client_id, "secret_digest")
    updated = json.loads(
        ok(cli("client", "update", client_id, "--name", "Renamed", "--redirect-uri",
               "https://rp.example/a", "--redirect-uri", "https://rp.example/b",
               "--id-token-ttl", "300", "--json", capsys=capsys))
    )  # fmt: skip
    assert updated["client_name"] == "Renamed"
    assert updated["redirect_uris"] == ["https://rp.example/a", "https://rp.example/b"]
    assert updated["id_token_ttl"] == 300
    assert updated["description"] == "kept" and updated["skip_consent"] is True
    assert client_row(cli, client_id, "name, redirect_uris, description, skip_consent") == (
        "Renamed",
        "https://rp.example/a\nhttps://rp.example/b",
        "kept",
        1,
    )
    assert client_row(cli, client_id, "secret_digest") == digest
    assert created["client_secret"] not in json.dumps(updated)

    plain = ok(cli("client", "update", client_id, "--no-skip-consent", capsys=capsys))
    assert re.search(r"^skip_consent\s+False$", plain, re.MULTILINE)
    assert client_row(cli, client_id, "skip_consent") == (0,)
    actions = [(action, json.loads(details)) for _, action, _, details in audit(cli)]
    assert actions[1:] == [
        (
            "client.update",
            {
                "fields": ["client_name", "id_token_ttl", "redirect_uris"],
                "client_name": "Renamed",
            },
        ),
        ("client.update", {"fields": ["skip_consent"], "client_name": "Renamed"}),
    ]


def test_client_update_errors(cli: Cli, capsys: Capsys) -> None:
    client_id = create(cli, capsys)["client_id"]
    before = cli.rows("SELECT * FROM oidc_client")
    audited = audit(cli)
    refused(cli("client", "update", client_id, capsys=capsys), "nothing to change")
    for argv, prefix in (
        (["--access-token-ttl", "59"], "invalid access_token_ttl:"),
        (["--id-token-ttl", "86401"], "invalid id_token_ttl:"),
        (["--scope", "profile email"], "invalid scope:"),
        (["--scope", "openid admin"], "invalid scope:"),
        (["--redirect-uri", "http://rp.example/cb"], "invalid redirect_uris:"),
        (["--name", "ok", "--logo-uri", "//evil.example/x.png"], "invalid logo_uri:"),
        (["--name", "x" * 256], "invalid client_name:"),
        (["--url", "javascript:alert(1)"], "invalid client_uri:"),
    ):
        refused(cli("client", "update", client_id, *argv, capsys=capsys), prefix)
    refused(
        cli("client", "update", "nope", "--name", "X", capsys=capsys),
        "no client with client_id 'nope'",
    )
    assert cli.rows("SELECT * FROM oidc_client") == before
    assert audit(cli) == audited


def test_client_create_errors_name_the_field(cli: Cli, capsys: Capsys) -> None:
    for extra, prefix in (
        (["--access-token-ttl", "86401"], "invalid access_token_ttl:"),
        (["--scope", "email"], "invalid scope:"),
        (["--redirect-uri", "https://*.rp.example/cb"], "invalid redirect_uris:"),
        (["--logo-uri", "javascript:alert(1)"], "invalid logo_uri:"),
    ):
        argv = ["client", "create", "--name", "X", "--redirect-uri", CB, *extra]
        refused(cli(*argv, capsys=capsys), prefix)
    assert cli.rows("SELECT COUNT(*) FROM oidc_client") == [(0,)]
    assert audit(cli) == []
    created = create(cli, capsys, "--logo-uri", "/modules/servers/cpanel/logo.png")
    assert client_row(cli, created["client_id"], "logo_uri") == (
        "/modules/servers/cpanel/logo.png",
    )


# -- client reset-secret / delete --------------------------------------------------------------


def test_client_reset_secret(cli: Cli, capsys: Capsys) -> None:
    created = create(cli, capsys)
    client_id, old = created["client_id"], created["client_secret"]
    printed = json.loads(ok(cli("client", "reset-secret", client_id, "--json", capsys=capsys)))
    assert set(printed) == {"client_id", "client_secret"}
    assert printed["client_id"] == client_id
    new = printed["client_secret"]
    assert new != old and len(new) >= 32
    assert client_row(
        cli, client_id, "secret_digest, previous_secret_digest, previous_secret_expires_at"
    ) == (sha256(new), None, None)

    plain = ok(cli("client", "reset-secret", client_id, "--grace-seconds", "60", capsys=capsys))
    match = re.search(r"client_secret: (\S+)", plain)
    assert match
    newest = match.group(1)
    digest, previous, until = client_row(
        cli, client_id, "secret_digest, previous_secret_digest, previous_secret_expires_at"
    )
    assert (digest, previous) == (sha256(newest), sha256(new))
    assert until > 0
    raw = cli.raw_bytes()
    for secret in (old, new, newest):
        assert secret.encode() not in raw

    refused(
        cli("client", "reset-secret", client_id, "--grace-seconds", "-1", capsys=capsys),
        "invalid grace_seconds:",
    )
    refused(cli("client", "reset-secret", "nope", capsys=capsys), "no client with client_id 'nope'")
    assert client_row(cli, client_id, "secret_digest") == (sha256(newest),)
    details = [json.loads(d) for _, action, _, d in audit(cli) if action == "client.reset_secret"]
    assert details == [
        {"grace_seconds": 0, "client_name": "Test RP"},
        {"grace_seconds": 60, "client_name": "Test RP"},
    ]


def test_client_delete(cli: Cli, capsys: Capsys) -> None:
    doomed = create(cli, capsys, name="Doomed")["client_id"]
    kept = create(cli, capsys, name="Kept")["client_id"]
    assert ok(cli("client", "delete", doomed, capsys=capsys)).strip() == f"deleted client {doomed}"
    assert cli.rows("SELECT client_id FROM oidc_client") == [(kept,)]
    refused(cli("client", "delete", doomed, capsys=capsys), f"no client with client_id {doomed!r}")
    assert audit(cli)[-1] == (ACTOR, "client.delete", doomed, '{"client_name": "Doomed"}')


def test_every_client_change_is_audited_without_secrets(cli: Cli, capsys: Capsys) -> None:
    created = create(cli, capsys)
    client_id = created["client_id"]
    ok(cli("client", "update", client_id, "--description", "x", capsys=capsys))
    reset = json.loads(ok(cli("client", "reset-secret", client_id, "--json", capsys=capsys)))
    ok(cli("client", "list", capsys=capsys))
    ok(cli("client", "show", client_id, capsys=capsys))
    ok(cli("client", "delete", client_id, capsys=capsys))
    entries = audit(cli)
    assert [(actor, action, target) for actor, action, target, _ in entries] == [
        (ACTOR, "client.create", client_id),
        (ACTOR, "client.update", client_id),
        (ACTOR, "client.reset_secret", client_id),
        (ACTOR, "client.delete", client_id),
    ]
    for secret in (created["client_secret"], reset["client_secret"]):
        assert secret not in json.dumps(entries)
        assert sha256(secret) not in json.dumps(entries)


def test_client_errors_through_the_entry_point(cli: Cli) -> None:
    """What an operator sees: status 1, one line on stderr, no traceback."""
    oidc_core = str(Path(sys.executable).parent / "oidc-core")
    env = {**os.environ, **cli.env, "LOGNAME": OPERATOR}
    for argv, message in (
        (["client", "create", "--name", "X", "--redirect-uri", CB, "--id-token-ttl", "59"],
         "invalid id_token_ttl: must be between 60 and 86400 seconds"),
        (["client", "update", "nope"], "nothing to change: give at least one option"),
        (["client", "delete", "nope"], "no client with client_id 'nope'"),
        (["admin-token", "revoke", "7"], "no active admin token with id 7"),
    ):  # fmt: skip
        result = subprocess.run(
            [oidc_core, *argv], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 1, (argv, result.stderr)
        assert result.stderr == message + "\n"
        assert result.stdout == ""


def test_public_client_made_confidential_gets_a_secret(cli: Cli, capsys: Capsys) -> None:
    client_id = create(cli, capsys, "--public")["client_id"]
    updated = json.loads(ok(cli("client", "update", client_id, "--no-public", "--json",
                                capsys=capsys)))  # fmt: skip
    assert updated["token_endpoint_auth_method"] == "client_secret_basic"
    secret = updated["client_secret"]
    assert isinstance(secret, str) and len(secret) >= 32
    assert client_row(cli, client_id, "is_public, secret_digest") == (0, sha256(secret))
    assert secret.encode() not in cli.raw_bytes()

    made_public = json.loads(ok(cli("client", "update", client_id, "--public", "--json",
                                    capsys=capsys)))  # fmt: skip
    assert "client_secret" not in made_public
    assert client_row(cli, client_id, "is_public, secret_digest") == (1, "")
    plain = ok(cli("client", "update", client_id, "--no-public", capsys=capsys))
    match = re.search(r"^client_secret\s+(\S+)$", plain, re.MULTILINE)
    assert match and client_row(cli, client_id, "secret_digest") == (sha256(match.group(1)),)
    actions = [action for _, action, _, _ in audit(cli)]
    assert actions == [
        "client.create",
        "client.update",
        "client.reset_secret",
        "client.update",
        "client.update",
        "client.reset_secret",
    ]


def test_client_access_token_format(cli: Cli, capsys: Capsys) -> None:
    client_id = create(cli, capsys, "--access-token-format", "jwt")["client_id"]
    shown = json.loads(ok(cli("client", "show", client_id, "--json", capsys=capsys)))
    assert shown["access_token_format"] == "jwt"
    assert client_row(cli, client_id, "access_token_format") == ("jwt",)
    plain = ok(cli("client", "update", client_id, "--access-token-format", "opaque",
                   capsys=capsys))  # fmt: skip
    assert re.search(r"^access_token_format\s+opaque$", plain, re.MULTILINE)
    assert client_row(cli, client_id, "access_token_format") == ("opaque",)
    wrong = cli("client", "update", client_id, "--access-token-format", "paseto", capsys=capsys)
    assert wrong.code == 2 and wrong.out == ""  # argparse: not one of the choices
    assert client_row(cli, client_id, "access_token_format") == ("opaque",)


def test_client_grant_types_are_set_on_create_and_replaced_on_update(
    cli: Cli, capsys: Capsys
) -> None:
    created = create(
        cli, capsys, "--grant-type", "refresh_token", "--scope", "openid offline_access"
    )
    client_id = created["client_id"]
    shown = json.loads(ok(cli("client", "show", client_id, "--json", capsys=capsys)))
    assert shown["grant_types"] == ["authorization_code", "refresh_token"]
    assert set(shown["scope"].split()) == {"openid", "offline_access"}

    updated = json.loads(
        ok(cli("client", "update", client_id, "--grant-type", "authorization_code", "--json",
               capsys=capsys))
    )  # fmt: skip
    assert updated["grant_types"] == ["authorization_code"]
    refused(
        cli("client", "update", client_id, "--public", "--grant-type", "client_credentials",
            capsys=capsys),
        "invalid grant_types:",
    )  # fmt: skip
    unknown = cli("client", "update", client_id, "--grant-type", "password", capsys=capsys)
    assert unknown.code not in (0, None)
    assert client_row(cli, client_id, "grant_types") == ("authorization_code",)


def test_pairwise_client_flags(cli: Cli, capsys: Capsys) -> None:
    """``--subject-type`` and ``--sector-identifier-uri`` go through the one validation."""
    created = create(cli, capsys, "--subject-type", "pairwise")
    columns = "subject_type, sector_identifier, sector_identifier_uri"
    assert client_row(cli, created["client_id"], columns) == ("pairwise", "rp.example", "")
    shown = ok(cli("client", "show", created["client_id"], capsys=capsys))
    assert re.search(r"subject_type\s+pairwise", shown), shown
    several = cli("client", "create", "--name", "Two hosts", "--redirect-uri", CB,
                  "--redirect-uri", "https://other.example/cb", "--subject-type", "pairwise",
                  capsys=capsys)  # fmt: skip
    refused(several, "invalid sector_identifier_uri: is required for a pairwise client")
    plain = cli("client", "update", created["client_id"], "--sector-identifier-uri",
                "http://rp.example/sector.json", capsys=capsys)  # fmt: skip
    refused(plain, "invalid sector_identifier_uri:")
    assert client_row(cli, created["client_id"], columns) == ("pairwise", "rp.example", "")
