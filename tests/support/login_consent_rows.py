"""Row counts for the login and consent tests: codes, signed-in sessions, consents."""

from __future__ import annotations

from oidc_core import Provider


def count(provider: Provider, sql: str) -> int:
    return int(provider.storage.database.execute_sql(sql).fetchone()[0])


def code_rows(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_authorization_code")


def logged_in_sessions(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_browser_session WHERE user_id IS NOT NULL")


def consent_rows(provider: Provider) -> int:
    return count(provider, "SELECT COUNT(*) FROM oidc_consent")
