"""The mail settings: checked at start-up, the password kept out of repr()."""

from __future__ import annotations

import pytest

from oidc_core.settings import ConfigurationError, Settings


def test_the_defaults_send_no_mail_and_name_a_sender_on_the_issuers_host() -> None:
    settings = Settings(issuer="https://login.example.com")
    assert settings.smtp_host == "" and settings.smtp_security == "starttls"
    assert settings.mail_sender == "no-reply@login.example.com"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"oidc.smtp_security": "tls"}, "smtp_security"),
        ({"oidc.smtp_port": "0"}, "smtp_port"),
        ({"oidc.smtp_port": "70000"}, "smtp_port"),
        ({"oidc.smtp_timeout": "0"}, "smtp_timeout"),
        ({"oidc.smtp_host": "mail.example.com", "oidc.smtp_security": "none"}, "smtp_security"),
        ({"oidc.mail_from": "a@b.example\r\nBcc: x@y.example"}, "mail_from"),
    ],
)
def test_bad_mail_settings_are_named(values: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^oidc.{named}: |^{named}: "):
        Settings.from_mapping(values)


def test_plain_smtp_is_allowed_to_a_loopback_host_only() -> None:
    for host in ("127.0.0.1", "localhost", "[::1]"):
        assert Settings(smtp_host=host, smtp_security="none").smtp_security == "none"


def test_the_smtp_password_is_not_in_the_settings_repr() -> None:
    settings = Settings.from_env({"OIDC_SMTP_PASSWORD": "hunter2-secret"})
    assert settings.smtp_password == "hunter2-secret"
    assert "hunter2-secret" not in repr(settings)
