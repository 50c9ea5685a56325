"""``oidc-core client create``: JSON and plain output, the secret shown once, refused
redirect URIs, ``--require-pkce``.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.cli import Cli, _client
from tests.support.cli import initialised as initialised
from tests.support.cli import run as run

# -- client create ------------------------------------------------------------------------


def test_client_create_json(initialised: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    uris = ["https://rp.example/cb", "http://127.0.0.1:9000/cb"]
    result = _client(initialised, capsys, *uris)
    assert result.code == 0
    printed = json.loads(result.out)
    assert set(printed) == {"client_id", "client_secret"}
    rows = initialised.rows("SELECT client_id, secret_digest, redirect_uris FROM oidc_client")
    assert len(rows) == 1
    client_id, secret_digest, redirect_uris = rows[0]
    assert client_id == printed["client_id"]
    assert str(redirect_uris).split("\n") == uris

    secret = printed["client_secret"]
    assert len(secret) >= 32
    assert re.fullmatch(r"[0-9a-f]{64}", str(secret_digest))
    assert secret not in str(secret_digest)
    assert secret.encode() not in initialised.raw_bytes()


def test_client_create_plain_output_shows_the_secret_once(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _client(initialised, capsys, "https://rp.example/cb", json_=False)
    assert result.code == 0
    client_id = re.search(r"client_id:\s+(\S+)", result.out)
    secret = re.search(r"client_secret:\s+(\S+)", result.out)
    assert client_id and secret
    assert initialised.rows("SELECT client_id FROM oidc_client") == [(client_id.group(1),)]
    assert secret.group(1).encode() not in initialised.raw_bytes()


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://rp.example/cb#frag", "fragment"),
        ("http://rp.example/cb", "loopback"),
        ("javascript:alert(1)", "absolute"),
        ("/relative/callback", "absolute"),
        ("rp.example/cb", "absolute"),
        ("https://user:pw@rp.example/cb", "user information"),
        ("https://rp.example/c b", "whitespace"),
    ],
)
def test_client_create_rejects_bad_redirect_uris(
    initialised: Cli, capsys: pytest.CaptureFixture[str], uri: str, reason: str
) -> None:
    result = _client(initialised, capsys, "https://rp.example/ok", uri)
    assert isinstance(result.code, str), result
    assert result.code.startswith("invalid redirect_uris:")
    assert reason in result.code
    assert result.out == ""
    assert initialised.rows("SELECT COUNT(*) FROM oidc_client") == [(0,)]


def test_client_create_rejects_duplicate_uris_and_bad_urls(
    initialised: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    duplicate = _client(initialised, capsys, "https://rp.example/cb", "https://rp.example/cb")
    assert "duplicate" in str(duplicate.code)
    bad_logo = initialised(
        "client", "create", "--name", "X", "--redirect-uri", "https://rp.example/cb",
        "--logo-uri", "javascript:alert(1)", capsys=capsys,
    )  # fmt: skip
    assert str(bad_logo.code).startswith("invalid logo_uri:")
    blank_name = initialised(
        "client", "create", "--name", "  ", "--redirect-uri", "https://rp.example/cb",
        capsys=capsys,
    )  # fmt: skip
    assert str(blank_name.code).startswith("invalid client_name:")
    assert initialised.rows("SELECT COUNT(*) FROM oidc_client") == [(0,)]


def test_client_create_require_pkce(initialised: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    result = initialised(
        "client", "create", "--name", "Strict", "--redirect-uri", "https://rp.example/cb",
        "--require-pkce", "--description", "needs PKCE", "--url", "https://rp.example",
        capsys=capsys,
    )  # fmt: skip
    assert result.code == 0
    assert initialised.rows(
        "SELECT name, require_pkce, description, client_uri FROM oidc_client"
    ) == [("Strict", 1, "needs PKCE", "https://rp.example")]
