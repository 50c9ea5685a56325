"""Migration 12 (0.5.0), frozen like the others in :mod:`.migrations`: second factors,
emailed links, account status and how each sign-in was made."""

from __future__ import annotations

import peewee
from playhouse import migrate

from .db import is_mysql


def v12_accounts(db: peewee.Database) -> None:
    """0.5.0: second factors (TOTP, WebAuthn, recovery codes), links sent by email,
    account status, how each sign-in was made (``amr``/``acr``), per-client MFA."""
    migrator = migrate.SchemaMigrator.from_database(db)

    def amr() -> peewee.Field:
        return peewee.CharField(max_length=64, null=True)

    def acr() -> peewee.Field:
        return peewee.CharField(max_length=255, null=True)

    migrate.migrate(
        migrator.add_column(
            "oidc_user",
            "status",
            peewee.CharField(
                max_length=16, default="active", constraints=[peewee.SQL("DEFAULT 'active'")]
            ),
        ),
        migrator.add_column("oidc_user", "status_changed_at", peewee.BigIntegerField(null=True)),
        migrator.add_column("oidc_client", "require_mfa", peewee.BooleanField(default=False)),
        migrator.add_column("oidc_browser_session", "amr", amr()),
        migrator.add_column(
            "oidc_browser_session", "pending_user_id", peewee.BigIntegerField(null=True)
        ),
        migrator.add_column("oidc_browser_session", "pending_amr", amr()),
        migrator.add_column(
            "oidc_browser_session", "pending_at", peewee.BigIntegerField(null=True)
        ),
        migrator.add_column("oidc_authorization_code", "amr", amr()),
        migrator.add_column("oidc_authorization_code", "acr", acr()),
        migrator.add_column("oidc_refresh_token", "amr", amr()),
        migrator.add_column("oidc_refresh_token", "acr", acr()),
    )

    if is_mysql(db):  # adding NOT NULL there rewrote the column without its default
        db.execute_sql("ALTER TABLE oidc_user ALTER status SET DEFAULT 'active'")  # type: ignore[no-untyped-call]

    class User(peewee.Model):
        class Meta:
            database = db
            table_name = "oidc_user"

    class TotpCredential(peewee.Model):
        user = peewee.ForeignKeyField(User, unique=True, on_delete="CASCADE")
        secret = peewee.CharField(max_length=64)
        created_at = peewee.BigIntegerField()
        confirmed_at = peewee.BigIntegerField(null=True)
        last_step = peewee.BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = "oidc_totp_credential"
            legacy_table_names = False

    class WebAuthnCredential(peewee.Model):
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        credential_id_digest = peewee.CharField(max_length=64, unique=True)
        credential_id = peewee.TextField()
        public_key = peewee.TextField()
        sign_count = peewee.BigIntegerField(default=0)
        name = peewee.CharField(max_length=255)
        transports = peewee.CharField(max_length=255, default="")
        aaguid = peewee.CharField(max_length=64, default="")
        passwordless = peewee.BooleanField(default=False)
        created_at = peewee.BigIntegerField()
        last_used_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = "oidc_webauthn_credential"
            legacy_table_names = False

    class RecoveryCode(peewee.Model):
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        code_digest = peewee.CharField(max_length=255)
        created_at = peewee.BigIntegerField()
        used_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = "oidc_recovery_code"
            legacy_table_names = False

    class AccountLink(peewee.Model):
        token_digest = peewee.CharField(max_length=64, unique=True)
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        purpose = peewee.CharField(max_length=16)
        email = peewee.CharField(max_length=320, default="")
        created_at = peewee.BigIntegerField()
        expires_at = peewee.BigIntegerField(index=True)
        used_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = "oidc_account_link"
            legacy_table_names = False

    db.create_tables([TotpCredential, WebAuthnCredential, RecoveryCode, AccountLink])
