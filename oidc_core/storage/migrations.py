"""Numbered schema migrations, each one step of the schema's history; :mod:`.schema`
runs them (``upgrade`` brings any database to the newest version, :data:`LATEST`).

Migration functions are incremental and frozen: they name columns and tables explicitly
instead of reading today's models, so an old database always goes through the same steps.
``tests/core/test_migrations.py`` upgrades a database created with the 0.1.0 schema, with
data in it.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee
from playhouse import migrate

from .db import is_mysql
from .migration_accounts import v12_accounts
from .migration_registration import v13_registration


def _v1_initial(db: peewee.Database) -> None:
    """0.1.0: users, clients, sessions, pending authorizations, consents, codes, tokens, keys."""
    raise RuntimeError("schema version 1 is only ever created from scratch")


def _v2_client_policy_audit_admin_tokens(db: peewee.Database) -> None:
    """0.2.0: per-client policy and secret grace period; audit log; admin API tokens."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column("oidc_client", "is_public", peewee.BooleanField(default=False)),
        migrator.add_column("oidc_client", "access_token_ttl", peewee.IntegerField(null=True)),
        migrator.add_column("oidc_client", "id_token_ttl", peewee.IntegerField(null=True)),
        migrator.add_column(
            "oidc_client", "previous_secret_digest", peewee.CharField(max_length=64, null=True)
        ),
        migrator.add_column(
            "oidc_client", "previous_secret_expires_at", peewee.BigIntegerField(null=True)
        ),
    )

    class AuditEntry(peewee.Model):
        at = peewee.BigIntegerField(index=True)
        actor = peewee.CharField(max_length=320)
        action = peewee.CharField(max_length=64)
        target = peewee.CharField(max_length=128)
        details = peewee.TextField(default="{}")

        class Meta:
            database = db
            table_name = "oidc_audit_log"

    class AdminToken(peewee.Model):
        token_digest = peewee.CharField(max_length=64, unique=True)
        name = peewee.CharField(max_length=255)
        created_by = peewee.CharField(max_length=320)
        created_at = peewee.BigIntegerField()
        last_used_at = peewee.BigIntegerField(null=True)
        revoked_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = "oidc_admin_token"

    db.create_tables([AuditEntry, AdminToken])


def _v3_host_accounts(db: peewee.Database) -> None:
    """0.3.0: accounts from a host's own user table.  Each gets an ``oidc_user`` row (its
    ``sub`` and the foreign key of its codes, tokens and consents) holding the host's key in
    ``external_id`` and no email or password."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.drop_not_null("oidc_user", "email"),
        migrator.add_column(
            "oidc_user", "external_id", peewee.CharField(max_length=255, null=True)
        ),
        migrator.add_index("oidc_user", ("external_id",), unique=True),
    )


def _v4_key_rotation_client_alg(db: peewee.Database) -> None:
    """0.4.0: signing-key rotation times, at most one next and one current key per
    algorithm, and the client's ID token signing algorithm."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column("oidc_signing_key", "activated_at", peewee.BigIntegerField(null=True)),
        migrator.add_column("oidc_signing_key", "retired_at", peewee.BigIntegerField(null=True)),
        migrator.add_column(
            "oidc_client",
            "id_token_signed_response_alg",
            peewee.CharField(max_length=16, null=True),
        ),
    )
    for sql in (
        "UPDATE oidc_signing_key SET activated_at = created_at WHERE state = 'current'",
        "UPDATE oidc_signing_key SET retired_at = created_at WHERE state = 'retired'",
    ):
        db.execute_sql(sql)  # type: ignore[no-untyped-call]
    create_one_live_key_index(db)


def create_one_live_key_index(db: peewee.Database) -> None:
    """At most one ``next`` and one ``current`` signing key per algorithm, enforced by the
    database (schema version 4): two processes rotating at once cannot both promote.

    SQLite and PostgreSQL: a partial unique index on ``(alg, state)`` for those two states.
    MySQL/MariaDB have no partial index: a generated column ``live_state`` holds the state
    of a next or current key and NULL for a retired one, and a unique index on
    ``(alg, live_state)`` allows any number of NULLs.  The column is computed by the
    database and stays out of the model."""
    statements: tuple[str, ...]
    if is_mysql(db):
        statements = (
            "ALTER TABLE oidc_signing_key ADD COLUMN live_state VARCHAR(16) AS "
            "(CASE WHEN state IN ('next', 'current') THEN state END) STORED",
            "CREATE UNIQUE INDEX oidc_signing_key_one_live ON oidc_signing_key (alg, live_state)",
        )
    else:
        statements = (
            "CREATE UNIQUE INDEX oidc_signing_key_one_live ON oidc_signing_key (alg, state) "
            "WHERE state IN ('next', 'current')",
        )
    for sql in statements:
        db.execute_sql(sql)  # type: ignore[no-untyped-call]


def _v5_refresh_tokens_grant_types(db: peewee.Database) -> None:
    """0.4.0: refresh tokens (rotated, in families), the grant family of access tokens,
    client-credentials access tokens without a user, the client's allowed grant types."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column(
            "oidc_client",
            "grant_types",
            peewee.CharField(max_length=255, default="authorization_code"),
        ),
        migrator.add_column("oidc_access_token", "grant_id", peewee.BigIntegerField(null=True)),
        migrator.drop_not_null("oidc_access_token", "user_id"),
        migrator.add_index("oidc_access_token", ("grant_id",), unique=False),
    )

    class Client(peewee.Model):
        class Meta:
            database = db
            table_name = "oidc_client"

    class User(peewee.Model):
        class Meta:
            database = db
            table_name = "oidc_user"

    class RefreshToken(peewee.Model):
        token_digest = peewee.CharField(max_length=64, unique=True)
        client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
        user = peewee.ForeignKeyField(User, on_delete="CASCADE")
        grant_id = peewee.BigIntegerField(index=True)
        scopes = peewee.CharField(max_length=1024)
        auth_time = peewee.BigIntegerField()
        created_at = peewee.BigIntegerField()
        expires_at = peewee.BigIntegerField(index=True)
        absolute_expires_at = peewee.BigIntegerField()
        used_at = peewee.BigIntegerField(null=True)
        revoked_at = peewee.BigIntegerField(null=True)

        class Meta:
            database = db
            table_name = "oidc_refresh_token"
            legacy_table_names = False  # index names as the models make them

    db.create_tables([RefreshToken])


def _v6_post_logout_redirect_uris(db: peewee.Database) -> None:
    """0.4.0: RP-initiated logout; the client's registered post-logout redirect URIs."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column(
            "oidc_client", "post_logout_redirect_uris", peewee.TextField(default="")
        ),
    )


def _v7_access_token_format(db: peewee.Database) -> None:
    """0.4.0: the client's access token format, ``opaque`` or ``jwt`` (RFC 9068)."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column(
            "oidc_client", "access_token_format", peewee.CharField(max_length=16, default="opaque")
        ),
    )


def _v8_backchannel_logout(db: peewee.Database) -> None:
    """0.4.0: Back-Channel Logout 1.0; client metadata, the session's ``sid`` (also on the
    codes issued in it) and the deliveries of logout tokens."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column(
            "oidc_client", "backchannel_logout_uri", peewee.CharField(max_length=2048, default="")
        ),
        migrator.add_column(
            "oidc_client",
            "backchannel_logout_session_required",
            peewee.BooleanField(default=False),
        ),
        migrator.add_column(
            "oidc_browser_session", "sid", peewee.CharField(max_length=64, null=True)
        ),
        migrator.add_column(
            "oidc_authorization_code", "sid", peewee.CharField(max_length=64, null=True)
        ),
        migrator.add_index("oidc_authorization_code", ("sid",), False),
    )

    class Client(peewee.Model):
        class Meta:
            database = db
            table_name = "oidc_client"

    class BackchannelDelivery(peewee.Model):
        client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
        logout_token = peewee.TextField()
        attempts = peewee.IntegerField(default=0)
        next_attempt_at = peewee.BigIntegerField(null=True, index=True)
        delivered_at = peewee.BigIntegerField(null=True)
        created_at = peewee.BigIntegerField()

        class Meta:
            database = db
            table_name = "oidc_backchannel_delivery"

    db.create_tables([BackchannelDelivery])


def _v9_end_users(db: peewee.Database) -> None:
    """0.5.0: end users' pages and account protection: consent expiry and first grant,
    the browser and address of each session, and the sign-in failure counters."""
    migrator = migrate.SchemaMigrator.from_database(db)
    migrate.migrate(
        migrator.add_column("oidc_consent", "first_granted_at", peewee.BigIntegerField(null=True)),
        migrator.add_column("oidc_consent", "expires_at", peewee.BigIntegerField(null=True)),
        migrator.add_column(
            "oidc_browser_session", "user_agent", peewee.CharField(max_length=512, default="")
        ),
        migrator.add_column(
            "oidc_browser_session", "ip_address", peewee.CharField(max_length=64, default="")
        ),
    )
    db.execute_sql("UPDATE oidc_consent SET first_granted_at = granted_at")  # type: ignore[no-untyped-call]

    class LoginThrottle(peewee.Model):
        key = peewee.CharField(max_length=128, unique=True)
        failures = peewee.IntegerField(default=0)
        last_failure_at = peewee.BigIntegerField()
        locked_until = peewee.BigIntegerField(default=0, index=True)

        class Meta:
            database = db
            table_name = "oidc_login_throttle"

    db.create_tables([LoginThrottle])


def _v10_one_time_values(db: peewee.Database) -> None:
    """0.5.0: values a console page shows once (a new client secret), per browser session."""

    class BrowserSession(peewee.Model):
        class Meta:
            database = db
            table_name = "oidc_browser_session"

    class OneTimeValue(peewee.Model):
        session = peewee.ForeignKeyField(BrowserSession, on_delete="CASCADE")
        name = peewee.CharField(max_length=128)
        value = peewee.TextField()
        created_at = peewee.BigIntegerField()
        expires_at = peewee.BigIntegerField(index=True)

        class Meta:
            database = db
            table_name = "oidc_one_time_value"
            legacy_table_names = False  # index names as the models make them
            indexes = ((("session", "name"), True),)

    db.create_tables([OneTimeValue])


def _v11_index_names(db: peewee.Database) -> None:
    """0.5.0: one schema whichever way a database came.  Migrations 2, 8 and 9 created
    their tables' indexes under peewee's legacy names (``loginthrottle_key``), the models
    under the table's (``oidc_login_throttle_key``); on MySQL/MariaDB, migration 3 left a
    second unique index on ``oidc_user.email`` (``email``).  Each index is created under its
    name before the old one is dropped: a foreign key always has one."""
    renamed = (  # table, legacy name, columns, unique
        ("oidc_admin_token", "admintoken_token_digest", ("token_digest",), True),
        ("oidc_audit_log", "auditentry_at", ("at",), False),
        ("oidc_backchannel_delivery", "backchanneldelivery_client_id", ("client_id",), False),
        (
            "oidc_backchannel_delivery",
            "backchanneldelivery_next_attempt_at",
            ("next_attempt_at",),
            False,
        ),
        ("oidc_login_throttle", "loginthrottle_key", ("key",), True),
        ("oidc_login_throttle", "loginthrottle_locked_until", ("locked_until",), False),
    )
    migrator = migrate.SchemaMigrator.from_database(db)
    operations = []
    for table, legacy, columns, unique in renamed:
        if legacy in {index.name for index in db.get_indexes(table)}:
            operations.append(migrator.add_index(table, columns, unique))
            operations.append(migrator.drop_index(table, legacy))
    if is_mysql(db) and "email" in {index.name for index in db.get_indexes("oidc_user")}:
        operations.append(migrator.drop_index("oidc_user", "email"))
    migrate.migrate(*operations)


MIGRATIONS: tuple[Callable[[peewee.Database], None], ...] = (
    _v1_initial,
    _v2_client_policy_audit_admin_tokens,
    _v3_host_accounts,
    _v4_key_rotation_client_alg,
    _v5_refresh_tokens_grant_types,
    _v6_post_logout_redirect_uris,
    _v7_access_token_format,
    _v8_backchannel_logout,
    _v9_end_users,
    _v10_one_time_values,
    _v11_index_names,
    v12_accounts,
    v13_registration,
)
LATEST = len(MIGRATIONS)
