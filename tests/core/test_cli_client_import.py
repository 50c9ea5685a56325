"""``oidc-core client import FILE``: clients keep their existing ids and secrets; the file is
checked whole first, and any error names the entry and the field and imports nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Cli
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run
from tests.support.cli_admin import ACTOR, Capsys, audit, ok, refused, sha256
from tests.support.cli_admin import cli as cli

SECRET_A = "rp-a-existing-secret-0123456789abcdef"
SECRET_B = "rp-b-existing-secret-fedcba9876543210"


def entry(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_id": "legacy-panel.example",
        "client_secret": SECRET_A,
        "name": "Control panel",
        "redirect_uris": ["https://panel.example/cb", "https://panel.example:2083/cb"],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def clients(cli: Cli) -> list[tuple[Any, ...]]:
    return cli.rows("SELECT client_id, secret_digest FROM oidc_client ORDER BY client_id")


def test_import_json_keeps_ids_and_stores_only_digests(
    cli: Cli, capsys: Capsys, tmp_path: Path
) -> None:
    second = entry(
        client_id="0oa1b2c3d4E5f6G7h8",
        client_secret=SECRET_B,
        name="Shop",
        redirect_uris=["https://shop.example/oidc"],
        allowed_scopes=["openid", "email"],
        grant_types=["refresh_token"],
        skip_consent=True,
        description="Moved from the old provider",
    )
    path = write(tmp_path, "export.json", json.dumps({"clients": [entry(), second]}))
    out = json.loads(ok(cli("client", "import", path, "--json", capsys=capsys)))
    assert out["imported"] == ["legacy-panel.example", "0oa1b2c3d4E5f6G7h8"]
    assert out["warnings"] == []
    assert clients(cli) == [
        ("0oa1b2c3d4E5f6G7h8", sha256(SECRET_B)),
        ("legacy-panel.example", sha256(SECRET_A)),
    ]
    assert SECRET_A.encode() not in cli.raw_bytes()
    assert SECRET_A not in json.dumps(out)
    shown = json.loads(ok(cli("client", "show", "0oa1b2c3d4E5f6G7h8", "--json", capsys=capsys)))
    assert shown["scope"] == "email openid"
    assert shown["grant_types"] == ["authorization_code", "refresh_token"]
    assert shown["skip_consent"] is True
    assert shown["description"] == "Moved from the old provider"
    entries = audit(cli)
    assert [(actor, action, target) for actor, action, target, _ in entries] == [
        (ACTOR, "client.import", "legacy-panel.example"),
        (ACTOR, "client.import", "0oa1b2c3d4E5f6G7h8"),
    ]
    assert all(SECRET_A not in str(row) and SECRET_B not in str(row) for row in entries)


def test_import_csv_with_lists_in_cells(cli: Cli, capsys: Capsys, tmp_path: Path) -> None:
    text = (
        "client_id,client_secret,name,redirect_uris,require_pkce,is_public\r\n"
        f'whm-1,{SECRET_A},WHM,"https://h.example:2087/cb\nhttps://h.example:2083/cb",no,\r\n'
        "spa,,Single page app,https://spa.example/cb https://spa.example/cb2,,true\r\n"
    )
    out = ok(cli("client", "import", write(tmp_path, "export.csv", text), capsys=capsys))
    assert out.splitlines() == ["imported 2 clients:", "  whm-1", "  spa"]
    assert clients(cli) == [("spa", ""), ("whm-1", sha256(SECRET_A))]
    shown = json.loads(ok(cli("client", "show", "whm-1", "--json", capsys=capsys)))
    assert shown["redirect_uris"] == ["https://h.example:2087/cb", "https://h.example:2083/cb"]
    assert shown["require_pkce"] is False
    spa = json.loads(ok(cli("client", "show", "spa", "--json", capsys=capsys)))
    assert spa["token_endpoint_auth_method"] == "none"
    assert spa["require_pkce"] is True


def test_standard_input_needs_a_format(cli: Cli, capsys: Capsys) -> None:
    text = json.dumps([entry()])
    refused(cli("client", "import", "-", stdin=text, capsys=capsys), "nothing imported: standard")
    ok(cli("client", "import", "-", "--format", "json", stdin=text, capsys=capsys))
    assert [row[0] for row in clients(cli)] == ["legacy-panel.example"]


def test_dry_run_imports_nothing(cli: Cli, capsys: Capsys, tmp_path: Path) -> None:
    path = write(tmp_path, "export.json", json.dumps([entry()]))
    out = ok(cli("client", "import", path, "--dry-run", capsys=capsys))
    assert out.splitlines() == ["would import 1 client:", "  legacy-panel.example"]
    assert clients(cli) == []
    assert audit(cli) == []


def test_a_short_secret_is_imported_with_a_warning(
    cli: Cli, capsys: Capsys, tmp_path: Path
) -> None:
    path = write(tmp_path, "export.json", json.dumps([entry(client_secret="s" * 20)]))
    out = json.loads(ok(cli("client", "import", path, "--json", capsys=capsys)))
    assert len(out["warnings"]) == 1
    assert "entry 1" in out["warnings"][0] and "reset it" in out["warnings"][0]
    assert "s" * 20 not in out["warnings"][0]


def test_an_id_or_secret_that_basic_auth_decodes_is_imported_with_a_warning(
    cli: Cli, capsys: Capsys, tmp_path: Path
) -> None:
    export = [entry(client_id="tenant:app"), entry(client_id="b", client_secret="a+b" * 12)]
    path = write(tmp_path, "export.json", json.dumps(export))
    out = json.loads(ok(cli("client", "import", path, "--json", capsys=capsys)))
    assert [warning.split(":")[0] for warning in out["warnings"]] == ["entry 1", "entry 2"]
    assert all("form-urlencodes" in warning for warning in out["warnings"])
    assert all("a+b" not in warning for warning in out["warnings"])


def test_an_id_already_taken_is_refused(cli: Cli, capsys: Capsys, tmp_path: Path) -> None:
    first = write(tmp_path, "first.json", json.dumps([entry()]))
    ok(cli("client", "import", first, capsys=capsys))
    again = [entry(client_id="new-one"), entry(client_secret=SECRET_B, name="Takeover")]
    second = write(tmp_path, "second.json", json.dumps(again))
    message = refused(
        cli("client", "import", second, capsys=capsys), "nothing imported: entry 2: client_id:"
    )
    assert "already" in message
    assert clients(cli) == [("legacy-panel.example", sha256(SECRET_A))]
    assert len(audit(cli)) == 1


BAD_ENTRIES = [
    pytest.param(entry(client_id="dup"), "entry 2: client_id:", id="duplicate-in-file"),
    pytest.param(
        entry(redirect_uris=["http://rp.example/cb"]),
        "entry 2: redirect_uris:",
        id="bad-redirect-uri",
    ),
    pytest.param(entry(client_secret=None), "entry 2: client_secret:", id="missing-secret"),
    pytest.param(entry(client_secret="short-secret"), "entry 2: client_secret:", id="short"),
    pytest.param(entry(client_secret="é" * 40), "entry 2: client_secret:", id="non-ascii"),
    pytest.param(entry(is_public=True), "entry 2: client_secret:", id="public-with-secret"),
    pytest.param(entry(name="Bad \ud800 name"), "entry 2: name:", id="lone-surrogate"),
    pytest.param(entry(name="Bad \x1b[31m name"), "entry 2: name:", id="escape"),
    pytest.param(entry(client_id="with space"), "entry 2: client_id:", id="id-space"),
    pytest.param(entry(client_id="x" * 65), "entry 2: client_id:", id="id-too-long"),
    pytest.param(entry(client_id=None), "entry 2: client_id:", id="id-missing"),
    pytest.param(entry(name=None), "entry 2: name:", id="name-missing"),
    pytest.param(entry(scope="openid admin"), "entry 2: scope:", id="unknown-scope"),
    pytest.param(entry(allowed_scopes=["email"]), "entry 2: allowed_scopes:", id="no-openid"),
    pytest.param(entry(grant_types=["implicit"]), "entry 2: grant_types:", id="grant"),
    pytest.param(entry(require_pkce="yes"), "entry 2: require_pkce:", id="flag-type"),
    pytest.param(entry(secret="x"), "entry 2: secret:", id="unknown-field"),
    pytest.param("not an object", "entry 2:", id="not-an-object"),
]


@pytest.mark.parametrize(("bad", "named"), BAD_ENTRIES)
def test_a_bad_entry_is_named_and_nothing_is_imported(
    cli: Cli, capsys: Capsys, tmp_path: Path, bad: Any, named: str
) -> None:
    text = json.dumps([entry(client_id="dup", client_secret=SECRET_B), bad])
    message = refused(
        cli("client", "import", write(tmp_path, "x.json", text), capsys=capsys),
        f"nothing imported: {named}",
    )
    assert SECRET_A not in message and SECRET_B not in message
    assert "\x1b" not in message and "\ud800" not in message
    assert clients(cli) == []
    assert audit(cli) == []


@pytest.mark.parametrize(
    ("name", "text", "named"),
    [
        ("x.json", '[{"client_id": "a",', "the file: not valid JSON"),
        ("x.json", '{"client_id": "a"}', "the file: must be a list"),
        ("x.json", "[]", "the file: holds no clients"),
        ("x.csv", "", "line 1: a header row"),
        ("x.csv", "client_id,secret\r\na,b\r\n", "line 1: secret: unknown field"),
        (
            "x.csv",
            f"client_id,client_secret,name,redirect_uris\r\na,{SECRET_A},A,"
            "https://a.example/cb,extra\r\n",
            "line 2: must have the 4 cells",
        ),
        (
            "x.csv",
            f'client_id,client_secret,name,redirect_uris\r\nok,{SECRET_A},A,"'
            f'https://a.example/cb\nhttps://a.example/cb2"\r\nb,{SECRET_B},"B\x07",'
            "https://b.example/cb\r\n",
            "line 4: name:",
        ),
        ("x.csv", 'client_id,name\r\n"a\r\n', "line 2: not valid CSV"),
        ("x.csv", "client_id,is_public\r\na,perhaps\r\n", "line 2: is_public: must be true"),
        ("x.txt", "[]", "the file: cannot tell its format"),
    ],
)
def test_a_malformed_file_is_refused(
    cli: Cli, capsys: Capsys, tmp_path: Path, name: str, text: str, named: str
) -> None:
    result = cli("client", "import", write(tmp_path, name, text), capsys=capsys)
    refused(result, f"nothing imported: {named}")
    assert clients(cli) == []


def test_a_file_that_is_not_utf8_or_missing_is_refused(
    cli: Cli, capsys: Capsys, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("client_id,name\r\nä,Ä\r\n".encode("latin-1"))
    refused(cli("client", "import", str(path), capsys=capsys), "cannot import")
    refused(cli("client", "import", str(tmp_path / "nope.json"), capsys=capsys), "cannot read")
    assert clients(cli) == []


def test_the_examples_in_the_administration_guide_import(
    cli: Cli, capsys: Capsys, tmp_path: Path
) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "administration.md").read_text()
    section = guide.partition("## Moving from another provider: client import\n")[2]
    for file_format in ("json", "csv"):
        example = section.partition(f"```{file_format}\n")[2].partition("```")[0]
        path = write(tmp_path, f"example.{file_format}", example)
        out = json.loads(ok(cli("client", "import", path, "--dry-run", "--json", capsys=capsys)))
        assert out["checked"] == ["panel.example.com"], file_format
    assert clients(cli) == []
