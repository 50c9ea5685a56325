"""Migration 13 (0.6.0), frozen like the others in :mod:`.migrations`: clients that
register themselves (RFC 7591/7592), pairwise subjects, scoped management tokens and the
reference system's credential fields."""

from __future__ import annotations

import secrets

import peewee
from playhouse import migrate

from .db import is_mysql

# Columns a process still on 0.5 does not know: a default in the database too, so that its
# inserts keep working during a rolling upgrade (name, table, default).
DATABASE_DEFAULTS = (
    ("oidc_client", "policy_uri", ""),
    ("oidc_client", "tos_uri", ""),
    ("oidc_client", "software_id", ""),
    ("oidc_client", "software_version", ""),
    ("oidc_client", "subject_type", "public"),
    ("oidc_client", "sector_identifier_uri", ""),
    ("oidc_client", "sector_identifier", ""),
    ("oidc_admin_token", "scopes", "admin"),
)


def text(max_length: int, default: str) -> peewee.CharField:
    """A ``VARCHAR NOT NULL`` with ``default`` in Python and in the database."""
    return peewee.CharField(
        max_length=max_length, default=default, constraints=[peewee.SQL(f"DEFAULT '{default}'")]
    )


def v13_registration(db: peewee.Database) -> None:
    """0.6.0: initial access tokens, registration access tokens, pairwise subjects (with
    the provider's salt), client metadata of RFC 7591 and OIDC Registration, scopes on
    management API tokens, a client's service and credential grant type."""
    migrator = migrate.SchemaMigrator.from_database(db)

    migrate.migrate(
        migrator.add_column("oidc_client", "policy_uri", text(2048, "")),
        migrator.add_column("oidc_client", "tos_uri", text(2048, "")),
        migrator.add_column("oidc_client", "software_id", text(255, "")),
        migrator.add_column("oidc_client", "software_version", text(255, "")),
        migrator.add_column("oidc_client", "subject_type", text(16, "public")),
        migrator.add_column("oidc_client", "sector_identifier_uri", text(2048, "")),
        migrator.add_column("oidc_client", "sector_identifier", text(255, "")),
        migrator.add_column("oidc_client", "service_id", peewee.BigIntegerField(null=True)),
        migrator.add_column(
            "oidc_client", "credential_grant_type", peewee.CharField(max_length=32, null=True)
        ),
        migrator.add_column(
            "oidc_client",
            "registration_token_digest",
            peewee.CharField(max_length=64, null=True, unique=True),
        ),
        migrator.add_column(
            "oidc_client", "initial_access_token_id", peewee.BigIntegerField(null=True)
        ),
        migrator.add_column("oidc_admin_token", "scopes", text(255, "admin")),
        migrator.add_column(
            "oidc_client",
            "token_endpoint_auth_method",
            peewee.CharField(max_length=32, null=True),
        ),
    )
    if is_mysql(db):  # adding NOT NULL there rewrote the columns without their defaults
        for table, column, default in DATABASE_DEFAULTS:
            db.execute_sql(  # type: ignore[no-untyped-call]
                f"ALTER TABLE {table} ALTER {column} SET DEFAULT '{default}'"
            )

    class InitialAccessToken(peewee.Model):
        token_digest = peewee.CharField(max_length=64, unique=True)
        name = peewee.CharField(max_length=255)
        created_by = peewee.CharField(max_length=320)
        created_at = peewee.BigIntegerField()
        expires_at = peewee.BigIntegerField()
        uses_allowed = peewee.IntegerField(default=1)
        uses = peewee.IntegerField(default=0)
        allowed_scopes = peewee.CharField(max_length=1024, default="")
        allowed_grant_types = peewee.CharField(max_length=255, default="")
        allowed_redirect_hosts = peewee.TextField(default="")
        last_used_at = peewee.BigIntegerField(null=True)
        revoked_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = "oidc_initial_access_token"
            legacy_table_names = False

    class ProviderSecret(peewee.Model):
        name = peewee.CharField(max_length=64, unique=True)
        value = peewee.CharField(max_length=255)

        class Meta:
            database = db
            table_name = "oidc_provider_secret"
            legacy_table_names = False

    db.create_tables([InitialAccessToken, ProviderSecret])
    # OIDC Core 8.1: the salt of pairwise subjects, the same for every host of this
    # database and never changed by key rotation or a client's secret reset.
    ProviderSecret.create(name="pairwise_salt", value=secrets.token_urlsafe(32))
