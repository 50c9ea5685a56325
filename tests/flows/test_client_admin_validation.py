"""The validation corpus of client metadata (``registration.client_fields``, T-62)."""

from __future__ import annotations

from typing import Any

import pytest

from oidc_core import Provider
from oidc_core.registration import InvalidMetadata, client_fields
from tests.conftest import make_client
from tests.support.client_admin import CB

# -- the validation corpus (registration.client_fields) ---------------------------------------

BASE = {"client_name": "Corpus", "redirect_uris": ["https://rp.example/cb"]}


def refused_field(**metadata: Any) -> str:
    data = {**BASE, **metadata}
    with pytest.raises(InvalidMetadata) as refused:
        client_fields(data)
    assert str(refused.value).startswith(refused.value.field + ": ")
    return refused.value.field


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb#fragment",
        "https://rp.example/cb#",
        "javascript:alert(1)",
        "javascript://rp.example/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://rp.example/cb",
        "custom.scheme:/cb",
        "http://rp.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://localhost.evil.example/cb",
        "*",
        "https://*.rp.example/cb",
        "https://rp.example/*",
        "/relative/cb",
        "//rp.example/cb",
        "rp.example/cb",
        "",
        " https://rp.example/cb",
        "https://rp.example/cb ",
        "https://rp.example/c b",
        "https://rp.example/cb\n",
        "https://rp.example/cb\t",
        "https://rp.example/\x00",
        "https://rp.example\\@evil.example/cb",
        "https://user@rp.example/cb",
        "https://user:pw@rp.example/cb",
        "https://rp.example:99999/cb",
        "https://rp.example:port/cb",
        "https:///cb",
        "https://rp.example/" + "a" * 2030,
    ],
)
def test_t62_refused_redirect_uris(uri: str) -> None:
    assert refused_field(redirect_uris=[uri]) == "redirect_uris"
    assert refused_field(redirect_uris=["https://rp.example/ok", uri]) == "redirect_uris"


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb",
        "https://rp.example/cb?x=1&y=2",
        "https://rp.example:8443/cb",
        "http://127.0.0.1:9000/callback",
        "http://localhost:9000/callback",
        "http://[::1]:9000/cb",
        "http://127.0.0.2/cb",
        "https://rp.example/" + "a" * (2048 - len("https://rp.example/")),
    ],
)
def test_t62_accepted_redirect_uris(uri: str) -> None:
    assert client_fields({**BASE, "redirect_uris": [uri]}).redirect_uris == (uri,)


def test_t62_redirect_uri_lists() -> None:
    uris = [f"https://rp.example/cb{i}" for i in range(20)]
    assert client_fields({**BASE, "redirect_uris": uris}).redirect_uris == tuple(uris)
    assert refused_field(redirect_uris=[*uris, "https://rp.example/cb20"]) == "redirect_uris"
    assert refused_field(redirect_uris=[CB, CB]) == "redirect_uris"
    assert refused_field(redirect_uris=[]) == "redirect_uris"
    assert refused_field(redirect_uris=CB) == "redirect_uris"  # a string, not a list
    assert refused_field(redirect_uris=[CB, 1]) == "redirect_uris"
    assert refused_field(redirect_uris=None) == "redirect_uris"


@pytest.mark.parametrize(
    ("logo", "accepted"),
    [
        ("/modules/servers/cpanel/logo.png", True),
        ("https://rp.example/logo.png", True),
        ("", True),
        ("//evil.example/x.png", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("http://rp.example/logo.png", False),
        ("/path with space.png", False),
        ("/x.png#frag", False),
        ("/\\evil.example/x.png", False),
        ("logo.png", False),
    ],
)
def test_logo_uri(logo: str, accepted: bool) -> None:
    if accepted:
        assert client_fields({**BASE, "logo_uri": logo}).logo_uri == logo
    else:
        assert refused_field(logo_uri=logo) == "logo_uri"


def test_client_uri() -> None:
    assert client_fields({**BASE, "client_uri": "https://rp.example"}).client_uri == (
        "https://rp.example"
    )
    for bad in ("javascript:alert(1)", "/relative", "//evil.example", "http://rp.example"):
        assert refused_field(client_uri=bad) == "client_uri"


def test_name_and_description() -> None:
    data: dict[str, Any] = {"redirect_uris": [CB]}
    with pytest.raises(InvalidMetadata) as missing:
        client_fields(data)
    assert missing.value.field == "client_name"
    with pytest.raises(InvalidMetadata) as no_uris:
        client_fields({"client_name": "X"})
    assert no_uris.value.field == "redirect_uris"
    for bad in ("", "   ", "x" * 256, None, 5):
        assert refused_field(client_name=bad) == "client_name"
    assert client_fields({**BASE, "client_name": "x" * 255}).name == "x" * 255
    assert client_fields({**BASE, "client_name": " Trim me "}).name == "Trim me"
    assert client_fields({**BASE, "description": "d" * 2000}).description == "d" * 2000
    assert refused_field(description="d" * 2001) == "description"


def test_scope() -> None:
    assert client_fields({**BASE, "scope": "openid"}).allowed_scopes == "openid"
    assert client_fields({**BASE, "scope": "email openid  email"}).allowed_scopes == "email openid"
    assert client_fields(BASE).allowed_scopes == "openid profile email"
    for bad in ("profile email", "", "openid offline", "openid admin", "OPENID", 3):
        assert refused_field(scope=bad) == "scope"


def test_grant_and_response_types_and_auth_method() -> None:
    assert client_fields({**BASE, "grant_types": ["authorization_code"]})
    assert client_fields({**BASE, "response_types": ["code"]})
    for grants in (["implicit"], ["refresh_token"], ["client_credentials"],
                   ["authorization_code", "password"], [], "authorization_code",
                   [3]):  # fmt: skip
        assert refused_field(grant_types=grants) == "grant_types"
    full = ["client_credentials", "refresh_token", "authorization_code"]
    assert client_fields({**BASE, "grant_types": full}).grant_types == (
        "authorization_code",
        "refresh_token",
        "client_credentials",
    )
    as_public = {**BASE, "token_endpoint_auth_method": "none"}
    assert client_fields({**as_public, "grant_types": full[1:]}).grant_types[1] == "refresh_token"
    assert refused_field(**as_public, grant_types=full) == "grant_types"
    for types in (["token"], ["code id_token"], ["code", "token"], [], "code"):
        assert refused_field(response_types=types) == "response_types"

    assert not client_fields(
        {**BASE, "token_endpoint_auth_method": "client_secret_basic"}
    ).is_public
    assert not client_fields({**BASE, "token_endpoint_auth_method": "client_secret_post"}).is_public
    public = client_fields({**BASE, "token_endpoint_auth_method": "none"})
    assert public.is_public and public.require_pkce
    for method in ("private_key_jwt", "client_secret_jwt", "tls_client_auth", "", None, "NONE"):
        assert refused_field(token_endpoint_auth_method=method) == "token_endpoint_auth_method"


def test_public_implies_pkce() -> None:
    fields = client_fields({**BASE, "token_endpoint_auth_method": "none", "require_pkce": False})
    assert fields.is_public and fields.require_pkce
    current = client_fields(BASE)
    assert not current.require_pkce
    made_public = client_fields({"token_endpoint_auth_method": "none"}, current)
    assert made_public.is_public and made_public.require_pkce
    still = client_fields({"require_pkce": False}, made_public)
    assert still.require_pkce


@pytest.mark.parametrize("key", ["access_token_ttl", "id_token_ttl"])
def test_ttl_bounds(key: str) -> None:
    for good in (60, 61, 3600, 86400):
        assert getattr(client_fields({**BASE, key: good}), key) == good
    assert getattr(client_fields({**BASE, key: None}), key) is None
    for bad in (59, 0, -60, 86401, True, False, 60.0, "120", [120]):
        assert refused_field(**{key: bad}) == key


@pytest.mark.parametrize("key", ["require_pkce", "skip_consent"])
def test_flags(key: str) -> None:
    assert getattr(client_fields({**BASE, key: True}), key) is True
    for bad in (1, "true", None, "yes"):
        assert refused_field(**{key: bad}) == key


def test_unknown_fields_are_refused() -> None:
    for key in ("client_secret", "client_id", "is_admin", "jwks_uri", "secret_digest", "Scope"):
        assert refused_field(**{key: "x"}) == key
    current = client_fields(BASE)
    with pytest.raises(InvalidMetadata) as on_update:
        client_fields({"client_name": "X", "client_secret": "s"}, current)
    assert on_update.value.field == "client_secret"


def test_update_validation_keeps_absent_keys() -> None:
    current = client_fields(
        {**BASE, "description": "keep", "access_token_ttl": 120, "skip_consent": True}
    )
    changed = client_fields({"description": None, "access_token_ttl": None}, current)
    assert changed.description == "" and changed.access_token_ttl is None
    assert changed.skip_consent and changed.name == "Corpus"
    assert client_fields({}, current) == current


def test_make_client_fixture_accepts_the_policy_fields(provider: Provider) -> None:
    rp = make_client(
        provider.storage, "Policy", [CB], is_public=True, require_pkce=True, access_token_ttl=120
    )
    client = provider.clients.get(rp.client_id)
    assert rp.client_secret == ""
    assert client.is_public and client.require_pkce and client.access_token_ttl == 120
