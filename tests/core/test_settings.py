"""Settings: coercion from strings, validation, and errors that name the key."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from oidc_core.settings import ConfigurationError, Settings

HTTPS = {"oidc.issuer": "https://op.example"}


def test_defaults_are_valid() -> None:
    settings = Settings()
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.is_loopback
    assert not settings.secure_cookies
    assert settings.trusted_proxies == ()
    assert settings == Settings.from_mapping({})


def test_from_mapping_coerces_strings() -> None:
    settings = Settings.from_mapping(
        {
            "oidc.issuer": "  https://op.example/tenant  ",
            "oidc.database_url": "postgresql://oidc@db.internal/oidc",
            "oidc.code_ttl": " 30 ",
            "oidc.require_pkce": "yes",
            "oidc.sql_echo": "off",
            "oidc.trusted_proxies": "10.0.0.0/8, 192.168.1.7\n ::1 ,,",
            "oidc.key_cache_seconds": "0",
            "OIDC.MAX_BODY_BYTES": "1",  # another prefix: not ours, ignored
            "other.thing": "ignored",
        }
    )
    assert settings.issuer == "https://op.example/tenant"
    assert settings.database_url == "postgresql://oidc@db.internal/oidc"
    assert settings.code_ttl == 30
    assert settings.require_pkce is True
    assert settings.sql_echo is False
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.7", "::1")
    assert settings.key_cache_seconds == 0
    assert settings.max_body_bytes == Settings().max_body_bytes
    assert settings.secure_cookies
    assert not settings.is_loopback


def test_setting_names_are_case_insensitive_after_the_prefix() -> None:
    assert Settings.from_mapping({"oidc.CODE_TTL": "45"}).code_ttl == 45


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_true_values(raw: str) -> None:
    assert Settings.from_mapping({"oidc.require_pkce": raw}).require_pkce is True


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", ""])
def test_false_values(raw: str) -> None:
    assert Settings.from_mapping({"oidc.require_pkce": raw}).require_pkce is False


def test_custom_prefix() -> None:
    settings = Settings.from_mapping({"op.code_ttl": "5", "oidc.code_ttl": "nonsense"}, "op.")
    assert settings.code_ttl == 5


def test_non_string_values_pass_through() -> None:
    settings = Settings.from_mapping({"oidc.code_ttl": 15, "oidc.require_pkce": True})
    assert settings.code_ttl == 15
    assert settings.require_pkce is True


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"^oidc\.isuer: unknown setting$"):
        Settings.from_mapping({"oidc.isuer": "https://op.example"})


@pytest.mark.parametrize("raw", ["ten", "1.5", "", "0x10"])
def test_bad_integer_is_named(raw: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^oidc\.code_ttl: expected an integer"):
        Settings.from_mapping({"oidc.code_ttl": raw})


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_bad_boolean_is_named(raw: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^oidc\.require_pkce: expected a boolean"):
        Settings.from_mapping({"oidc.require_pkce": raw})


@pytest.mark.parametrize(
    ("issuer", "raw", "allowed"),
    [
        ("http://127.0.0.1:8000", None, True),  # not set: auto
        ("http://localhost:5000", "auto", True),
        ("http://[::1]:8000", " AUTO ", True),
        ("https://op.example", None, False),
        ("https://op.example", "auto", False),
        ("https://op.example", "true", True),
        ("https://op.example", "on", True),
        ("http://127.0.0.1:8000", "false", False),
        ("http://127.0.0.1:8000", "no", False),
    ],
)
def test_private_backchannel_addresses_are_allowed_on_a_loopback_issuer_by_default(
    issuer: str, raw: str | None, allowed: bool
) -> None:
    mapping = {"oidc.issuer": issuer}
    if raw is not None:
        mapping["oidc.backchannel_allow_private_addresses"] = raw
    settings = Settings.from_mapping(mapping)
    expected = None if raw is None or raw.strip().lower() == "auto" else allowed
    assert settings.backchannel_allow_private_addresses is expected
    assert settings.backchannel_private_addresses_allowed is allowed
    env = {"OIDC_ISSUER": issuer, "OIDC_BACKCHANNEL_ALLOW_PRIVATE_ADDRESSES": raw or "auto"}
    assert Settings.from_env(env).backchannel_private_addresses_allowed is allowed


@pytest.mark.parametrize("raw", ["maybe", "2", "automatic"])
def test_a_bad_backchannel_allow_private_addresses_is_named(raw: str) -> None:
    key = "oidc.backchannel_allow_private_addresses"
    with pytest.raises(ConfigurationError, match=rf"^{key}: expected a boolean"):
        Settings.from_mapping({key: raw})
    with pytest.raises(ConfigurationError, match=r"^backchannel_allow_private_addresses: must"):
        Settings.from_mapping({key: 1})


@pytest.mark.parametrize("proxy", ["", "http://proxy.internal:3128", "http://10.0.0.1:8080/"])
def test_backchannel_proxy_values(proxy: str) -> None:
    settings = Settings.from_mapping({"oidc.backchannel_proxy": proxy})
    assert settings.backchannel_proxy == proxy
    assert Settings().backchannel_proxy == ""


@pytest.mark.parametrize(
    "proxy",
    [
        "proxy.internal:3128",
        "https://proxy.internal:3128",
        "socks5://proxy.internal:1080",
        "http://proxy.internal",
        "http://user:secret@proxy.internal:3128",
        "http://proxy.internal:3128/path",
        "http://proxy.internal:3128?x=1",
        "http://proxy.internal:99999",
    ],
)
def test_a_bad_backchannel_proxy_is_named(proxy: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^backchannel_proxy: must be http://host:port"):
        Settings.from_mapping({"oidc.backchannel_proxy": proxy})


@pytest.mark.parametrize(
    "name",
    [
        "code_ttl",
        "access_token_ttl",
        "id_token_ttl",
        "session_ttl",
        "password_memory_cost",
        "second_factor_ttl",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_lifetimes_and_costs_must_be_positive(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^{name}: must be a positive integer"):
        Settings.from_mapping({f"oidc.{name}": value})


def test_key_cache_seconds_must_not_be_negative() -> None:
    with pytest.raises(ConfigurationError, match=r"^key_cache_seconds:"):
        Settings.from_mapping({"oidc.key_cache_seconds": "-1"})


@pytest.mark.parametrize(
    "issuer",
    [
        "https://op.example",
        "https://op.example:8443",
        "https://op.example/tenants/one",
        "http://127.0.0.1:8000",
        "http://localhost",
        "http://localhost:5000/op",
        "http://[::1]:8000",
    ],
)
def test_valid_issuers(issuer: str) -> None:
    assert Settings.from_mapping({"oidc.issuer": issuer}).issuer == issuer


@pytest.mark.parametrize(
    "issuer",
    ["http://127.0.0.1:8000", "http://localhost", "http://[::1]:8000"],
)
def test_plain_http_on_loopback_is_logged(issuer: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="oidc_core.settings"):
        settings = Settings(issuer=issuer)
    assert settings.is_loopback
    assert not settings.secure_cookies
    assert "plain http" in caplog.text


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ("http://op.example", "http:// is allowed only on loopback"),
        ("http://10.0.0.1:8000", "http:// is allowed only on loopback"),
        ("http://127.0.0.1.nip.io", "http:// is allowed only on loopback"),
        ("http://localhost.evil.example", "http:// is allowed only on loopback"),
        ("https://op.example/", "must not end with a slash"),
        ("https://op.example/tenant/", "must not end with a slash"),
        ("https://op.example?tenant=1", "no query, fragment"),
        ("https://op.example?", "no query, fragment"),
        ("https://op.example#top", "no query, fragment"),
        ("https://op.example#", "no query, fragment"),
        ("https://admin:pw@op.example", "user information"),
        ("https://admin@op.example", "user information"),
        ("ftp://op.example", "absolute https:// URL"),
        ("op.example", "absolute https:// URL"),
        ("/issuer", "absolute https:// URL"),
        ("", "absolute https:// URL"),
        ("https://op.example:port", "not a valid URL"),
        ("https://op.example:99999", "not a valid URL"),
        ("https://[::1", "not a valid URL"),
        ("https://op.example/a b", "whitespace"),
    ],
)
def test_invalid_issuers(issuer: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^issuer: ") as caught:
        Settings.from_mapping({"oidc.issuer": issuer})
    assert message in str(caught.value)


def test_issuer_is_checked_when_built_directly() -> None:
    with pytest.raises(ConfigurationError, match=r"^issuer:"):
        Settings(issuer="http://op.example")


@pytest.mark.parametrize("proxy", ["10.0.0.300", "proxy.internal", "10.0.0.0/33", "*"])
def test_bad_trusted_proxy_is_refused(proxy: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^trusted_proxies: ") as caught:
        Settings.from_mapping({**HTTPS, "oidc.trusted_proxies": f"127.0.0.1, {proxy}"})
    assert repr(proxy) in str(caught.value)


def test_trusted_proxy_networks_are_accepted() -> None:
    settings = Settings.from_mapping(
        {**HTTPS, "oidc.trusted_proxies": "10.1.2.3/8,fd00::/8,2001:db8::1"}
    )
    assert settings.trusted_proxies == ("10.1.2.3/8", "fd00::/8", "2001:db8::1")


@pytest.mark.parametrize(
    "url", ["mssql://db/oidc", "oracle://db/oidc", "oidc.db", "", "sqlite+pool:///x.db"]
)
def test_database_url_scheme(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^database_url:"):
        Settings.from_mapping({"oidc.database_url": url})


def test_a_pooled_postgresql_url_is_accepted_with_its_options() -> None:
    url = "postgresql+pool://oidc@db.internal/oidc?max_connections=20&stale_timeout=300"
    assert Settings.from_mapping({"oidc.database_url": url}).database_url == url


@pytest.mark.parametrize(
    "url",
    ["sqlite:///oidc.db", "postgresql://op@db/op", "postgres://op@db/op", "mysql://op:pw@db/op"],
)
def test_database_url_schemes_of_the_supported_databases_are_accepted(url: str) -> None:
    assert Settings.from_mapping({"oidc.database_url": url}).database_url == url


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.issuer = "https://elsewhere.example"  # type: ignore[misc]


def test_every_field_is_documented() -> None:
    for f in dataclasses.fields(Settings):
        assert f.metadata.get("doc"), f.name


# -- from_env ------------------------------------------------------------------------------


def test_from_env_reads_oidc_variables() -> None:
    settings = Settings.from_env(
        {
            "OIDC_ISSUER": "https://op.example",
            "OIDC_DATABASE_URL": "sqlite:////var/lib/oidc/op.db",
            "OIDC_ID_TOKEN_TTL": "600",
            "OIDC_REQUIRE_PKCE": "true",
            "OIDC_TRUSTED_PROXIES": "10.0.0.1,10.0.0.2",
            # Not settings: other OIDC_ variables (the test suite's own) and the rest.
            "OIDC_TEST_DATABASE_URL": "postgresql://elsewhere/db",
            "PATH": "/usr/bin",
            "oidc_code_ttl": "1",
        }
    )
    assert settings.issuer == "https://op.example"
    assert settings.database_url == "sqlite:////var/lib/oidc/op.db"
    assert settings.id_token_ttl == 600
    assert settings.require_pkce is True
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.2")
    assert settings.code_ttl == Settings().code_ttl


def test_from_env_uses_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_ISSUER", "https://env.example")
    monkeypatch.setenv("OIDC_CODE_TTL", "20")
    settings = Settings.from_env()
    assert settings.issuer == "https://env.example"
    assert settings.code_ttl == 20


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OIDC_CODE_TTL", "soon", r"^OIDC_CODE_TTL: expected an integer, got 'soon'"),
        ("OIDC_SQL_ECHO", "loud", r"^OIDC_SQL_ECHO: expected a boolean, got 'loud'"),
        ("OIDC_ISSUER", "http://op.example", r"^OIDC_ISSUER: http:// is allowed only on loopback"),
        ("OIDC_TRUSTED_PROXIES", "gateway", r"^OIDC_TRUSTED_PROXIES: 'gateway'"),
        ("OIDC_SESSION_TTL", "0", r"^OIDC_SESSION_TTL: must be a positive integer"),
    ],
)
def test_from_env_errors_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({"OIDC_ISSUER": "https://op.example", name: value})


def test_from_env_warns_about_unknown_variables(caplog: pytest.LogCaptureFixture) -> None:
    """A typo in a variable name is reported, not silently ignored."""
    with caplog.at_level("WARNING", logger="oidc_core.settings"):
        Settings.from_env({"OIDC_ISSUR": "https://op.example", "OIDC_TEST_X": "1"})
    assert "ignoring OIDC_ISSUR" in caplog.text
    assert "OIDC_TEST_X" not in caplog.text


def test_only_profile_claims_may_be_made_editable() -> None:
    settings = Settings.from_mapping({"oidc.profile_editable_claims": "locale, name"})
    assert settings.profile_editable_claims == ("locale", "name")
    with pytest.raises(ConfigurationError, match=r"profile_editable_claims: email cannot be"):
        Settings.from_mapping({"oidc.profile_editable_claims": "name,email"})
