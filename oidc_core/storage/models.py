"""Tables.  Timestamps are integer seconds since the epoch (UTC) on every backend.

Credentials are never stored in the clear: client secrets, codes, access tokens and
session keys are SHA-256 digests (``*_digest``); passwords are argon2id hashes.
"""

from __future__ import annotations

import peewee

from .db import database_proxy


def _text(max_length: int, default: str) -> peewee.CharField:
    """``VARCHAR NOT NULL`` with ``default`` in Python and in the database (for the rows a
    process of the previous version writes during a rolling upgrade)."""
    return peewee.CharField(
        max_length=max_length, default=default, constraints=[peewee.SQL(f"DEFAULT '{default}'")]
    )


class BaseModel(peewee.Model):
    id = peewee.AutoField()

    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()

    class Meta:
        table_name = "oidc_schema_version"


class User(BaseModel):
    subject = peewee.CharField(max_length=64, unique=True)
    # None for an account of a host's own account source (see oidc_core/accounts.py)
    email = peewee.CharField(max_length=320, unique=True, null=True)
    external_id = peewee.CharField(max_length=255, unique=True, null=True)
    password_hash = peewee.CharField(max_length=255, default="")
    name = peewee.CharField(max_length=255, default="")
    given_name = peewee.CharField(max_length=255, default="")
    family_name = peewee.CharField(max_length=255, default="")
    preferred_username = peewee.CharField(max_length=255, default="")
    locale = peewee.CharField(max_length=35, default="")
    email_verified = peewee.BooleanField(default=False)
    is_admin = peewee.BooleanField(default=False)
    created_at = peewee.BigIntegerField()
    updated_at = peewee.BigIntegerField()
    # schema version 12: active | suspended | closed (only an active account signs in);
    # a default in the database too, for rows written by an older version during an upgrade
    status = peewee.CharField(
        max_length=16, default="active", constraints=[peewee.SQL("DEFAULT 'active'")]
    )
    status_changed_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_user"


class Client(BaseModel):
    client_id = peewee.CharField(max_length=64, unique=True)
    secret_digest = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255)
    description = peewee.TextField(default="")
    client_uri = peewee.CharField(max_length=2048, default="")
    logo_uri = peewee.CharField(max_length=2048, default="")
    redirect_uris = peewee.TextField()  # newline-separated, each validated on write
    allowed_scopes = peewee.CharField(max_length=1024, default="openid profile email")
    require_pkce = peewee.BooleanField(default=False)
    skip_consent = peewee.BooleanField(default=False)
    created_at = peewee.BigIntegerField()
    updated_at = peewee.BigIntegerField()
    # schema version 2
    is_public = peewee.BooleanField(default=False)
    access_token_ttl = peewee.IntegerField(null=True)
    id_token_ttl = peewee.IntegerField(null=True)
    previous_secret_digest = peewee.CharField(max_length=64, null=True)
    previous_secret_expires_at = peewee.BigIntegerField(null=True)
    # schema version 4
    id_token_signed_response_alg = peewee.CharField(max_length=16, null=True)
    # schema version 5: space-separated, always with authorization_code
    grant_types = peewee.CharField(max_length=255, default="authorization_code")
    # schema version 6: newline-separated, each validated on write
    post_logout_redirect_uris = peewee.TextField(default="")
    # schema version 7: opaque | jwt (RFC 9068)
    access_token_format = peewee.CharField(max_length=16, default="opaque")
    # schema version 8: OpenID Connect Back-Channel Logout 1.0
    backchannel_logout_uri = peewee.CharField(max_length=2048, default="")
    backchannel_logout_session_required = peewee.BooleanField(default=False)
    # schema version 12: every sign-in to this client needs a second factor
    require_mfa = peewee.BooleanField(default=False)
    # schema version 13: RFC 7591 / OIDC Registration metadata; pairwise subjects
    # (each with a default in the database too: see migration_registration.DATABASE_DEFAULTS)
    policy_uri = _text(2048, "")
    tos_uri = _text(2048, "")
    software_id = _text(255, "")
    software_version = _text(255, "")
    subject_type = _text(16, "public")  # or pairwise
    sector_identifier_uri = _text(2048, "")
    sector_identifier = _text(255, "")  # a host name
    # the reference system's credential fields (the compatibility endpoint)
    service_id = peewee.BigIntegerField(null=True)
    credential_grant_type = peewee.CharField(max_length=32, null=True)
    # RFC 7592: a digest of the client's registration access token (None: none issued),
    # and the initial access token it registered with, whose limits keep applying
    registration_token_digest = peewee.CharField(max_length=64, null=True, unique=True)
    initial_access_token_id = peewee.BigIntegerField(null=True)
    # RFC 7591 2 as registered (None: not given, client_secret_basic or none); a
    # confidential client may use client_secret_basic or client_secret_post either way
    token_endpoint_auth_method = peewee.CharField(max_length=32, null=True)

    class Meta:
        table_name = "oidc_client"


class BrowserSession(BaseModel):
    key_digest = peewee.CharField(max_length=64, unique=True)
    csrf_secret = peewee.CharField(max_length=64)
    user = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
    user_id: int | None
    auth_time = peewee.BigIntegerField(null=True)
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)
    # schema version 8: the session's public identifier (``sid``), random, not the key
    sid = peewee.CharField(max_length=64, null=True)
    # schema version 9: shown on the user's sessions page
    user_agent = peewee.CharField(max_length=512, default="")
    ip_address = peewee.CharField(max_length=64, default="")
    # schema version 12: how the user signed in (RFC 8176 values, space-separated), and a
    # sign-in half done: the password of ``pending_user_id`` checked at ``pending_at``, a
    # second factor still to come (``pending_amr``: the methods used so far)
    amr = peewee.CharField(max_length=64, null=True)
    pending_user_id = peewee.BigIntegerField(null=True)
    pending_amr = peewee.CharField(max_length=64, null=True)
    pending_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_browser_session"


class PendingAuthorization(BaseModel):
    handle = peewee.CharField(max_length=64, unique=True)
    session = peewee.ForeignKeyField(BrowserSession, on_delete="CASCADE")
    session_id: int
    client_id = peewee.CharField(max_length=64)
    params = peewee.TextField()  # JSON of the validated authorization request
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)
    completed_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_pending_authorization"


class Consent(BaseModel):
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
    client_id: int
    scopes = peewee.CharField(max_length=1024)
    granted_at = peewee.BigIntegerField()  # the last time scopes were granted
    # schema version 9: the first authorization, and when the consent lapses (null: never)
    first_granted_at = peewee.BigIntegerField(null=True)
    expires_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_consent"
        indexes = ((("user", "client"), True),)


class AuthorizationCode(BaseModel):
    code_digest = peewee.CharField(max_length=64, unique=True)
    client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
    client_id: int
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    redirect_uri = peewee.CharField(max_length=2048)
    scopes = peewee.CharField(max_length=1024)
    nonce = peewee.TextField(null=True)
    claims = peewee.TextField(null=True)
    code_challenge = peewee.CharField(max_length=128, null=True)
    code_challenge_method = peewee.CharField(max_length=16, null=True)
    auth_time = peewee.BigIntegerField()
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)
    used_at = peewee.BigIntegerField(null=True)
    # schema version 8: the browser session's sid the code was issued in
    sid = peewee.CharField(max_length=64, null=True, index=True)
    # schema version 12: the authentication's methods (RFC 8176) and context class;
    # null (a row written before): none recorded
    amr = peewee.CharField(max_length=64, null=True)
    acr = peewee.CharField(max_length=255, null=True)

    class Meta:
        table_name = "oidc_authorization_code"


class AccessToken(BaseModel):
    token_digest = peewee.CharField(max_length=64, unique=True)
    client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
    client_id: int
    # None for a client credentials token (schema version 5)
    user = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
    code = peewee.ForeignKeyField(AuthorizationCode, null=True, on_delete="SET NULL")
    scopes = peewee.CharField(max_length=1024)
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)
    revoked_at = peewee.BigIntegerField(null=True)
    # schema version 5: the token family (the id of the code it descends from)
    grant_id = peewee.BigIntegerField(null=True, index=True)

    class Meta:
        table_name = "oidc_access_token"


class RefreshToken(BaseModel):
    """A refresh token, rotated on every use; ``grant_id`` links it to its family."""

    token_digest = peewee.CharField(max_length=64, unique=True)
    client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
    client_id: int
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    grant_id = peewee.BigIntegerField(index=True)
    scopes = peewee.CharField(max_length=1024)  # the scopes of the whole grant
    auth_time = peewee.BigIntegerField()
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)  # idle expiry, never past the absolute
    absolute_expires_at = peewee.BigIntegerField()
    used_at = peewee.BigIntegerField(null=True)
    revoked_at = peewee.BigIntegerField(null=True)
    # schema version 12: the grant's authentication, for the ID tokens of refreshes
    amr = peewee.CharField(max_length=64, null=True)
    acr = peewee.CharField(max_length=255, null=True)

    class Meta:
        table_name = "oidc_refresh_token"


class SigningKey(BaseModel):
    kid = peewee.CharField(max_length=128, unique=True)
    alg = peewee.CharField(max_length=16)
    private_pem = peewee.TextField()
    state = peewee.CharField(max_length=16)  # next | current | retired
    created_at = peewee.BigIntegerField()
    # schema version 4
    activated_at = peewee.BigIntegerField(null=True)  # became current
    retired_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_signing_key"


# At most one next and one current key per algorithm (two processes rotating at once cannot
# both promote) is a unique index that depends on the database: see
# ``migrations.create_one_live_key_index`` (schema version 4), run by :mod:`.schema`.


class AuditEntry(BaseModel):
    """One administrative change: who, what, when, on what. Never a secret."""

    at = peewee.BigIntegerField(index=True)
    actor = peewee.CharField(max_length=320)
    action = peewee.CharField(max_length=64)
    target = peewee.CharField(max_length=128)
    details = peewee.TextField(default="{}")

    class Meta:
        table_name = "oidc_audit_log"


class AdminToken(BaseModel):
    """A bearer token for the management API, stored as a digest."""

    token_digest = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=255)
    created_by = peewee.CharField(max_length=320)
    created_at = peewee.BigIntegerField()
    last_used_at = peewee.BigIntegerField(null=True)
    revoked_at = peewee.BigIntegerField(null=True)
    # schema version 13: space-separated (admin, clients:read, clients:write, ...)
    scopes = _text(255, "admin")

    class Meta:
        table_name = "oidc_admin_token"


class BackchannelDelivery(BaseModel):
    """A logout token to POST to a client's ``backchannel_logout_uri`` (schema version 8).

    Due while ``delivered_at`` is null and ``next_attempt_at`` is set and past; null
    ``next_attempt_at`` without ``delivered_at``: given up."""

    client = peewee.ForeignKeyField(Client, on_delete="CASCADE")
    client_id: int
    logout_token = peewee.TextField()
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = peewee.BigIntegerField(null=True, index=True)
    delivered_at = peewee.BigIntegerField(null=True)
    created_at = peewee.BigIntegerField()

    class Meta:
        table_name = "oidc_backchannel_delivery"


class LoginThrottle(BaseModel):
    """Failed sign-ins counted per key (schema version 9), shared by every process.

    ``key`` names what is counted, never in the clear: ``account:<digest of the login>``,
    ``pair:<digest of login and IP>``, ``ip:<address or network>``."""

    key = peewee.CharField(max_length=128, unique=True)
    failures = peewee.IntegerField(default=0)
    last_failure_at = peewee.BigIntegerField()
    locked_until = peewee.BigIntegerField(default=0, index=True)

    class Meta:
        table_name = "oidc_login_throttle"


class OneTimeValue(BaseModel):
    """A value a page shows once, kept for its browser session (schema version 10): the
    secret of a client just created in the admin console, read by the page the POST
    redirects to and deleted as it is read.  ``value`` is encrypted under a key derived
    from the session's cookie, which the database never holds (:mod:`..interactions.flash`)."""

    session = peewee.ForeignKeyField(BrowserSession, on_delete="CASCADE")
    session_id: int
    name = peewee.CharField(max_length=128)
    value = peewee.TextField()
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)

    class Meta:
        table_name = "oidc_one_time_value"
        indexes = ((("session", "name"), True),)


class TotpCredential(BaseModel):
    """A user's authenticator app (RFC 6238), schema version 12.  Confirmed once the user
    typed a first code; ``last_step`` is the newest time step accepted (a code is used once)."""

    user = peewee.ForeignKeyField(User, unique=True, on_delete="CASCADE")
    user_id: int
    secret = peewee.CharField(max_length=64)  # base32
    created_at = peewee.BigIntegerField()
    confirmed_at = peewee.BigIntegerField(null=True)
    last_step = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "oidc_totp_credential"


class WebAuthnCredential(BaseModel):
    """A passkey or security key (WebAuthn Level 2), schema version 12, found by the
    digest of its credential ID (up to 1023 bytes: too long for a portable unique index)."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    credential_id_digest = peewee.CharField(max_length=64, unique=True)
    credential_id = peewee.TextField()  # base64url
    public_key = peewee.TextField()  # base64url of the COSE key
    sign_count = peewee.BigIntegerField(default=0)
    name = peewee.CharField(max_length=255)
    transports = peewee.CharField(max_length=255, default="")  # space-separated
    aaguid = peewee.CharField(max_length=64, default="")
    # a discoverable credential the user allowed for signing in without a password
    passwordless = peewee.BooleanField(default=False)
    created_at = peewee.BigIntegerField()
    last_used_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_webauthn_credential"


class RecoveryCode(BaseModel):
    """One of a user's single-use recovery codes (schema version 12), as a digest."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    code_digest = peewee.CharField(max_length=255)
    created_at = peewee.BigIntegerField()
    used_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_recovery_code"


class AccountLink(BaseModel):
    """A link sent by email (schema version 12): ``reset`` a password or ``verify`` an
    address (``email``: the one it confirms).  Single-use, stored as a digest."""

    token_digest = peewee.CharField(max_length=64, unique=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    user_id: int
    purpose = peewee.CharField(max_length=16)
    email = peewee.CharField(max_length=320, default="")
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField(index=True)
    used_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_account_link"


class InitialAccessToken(BaseModel):
    """RFC 7591 section 3: a bearer token that lets a server register a client
    (schema version 13), stored as a digest; it may be used ``uses_allowed`` times
    before ``expires_at``, for what its limits allow (empty: no limit)."""

    token_digest = peewee.CharField(max_length=64, unique=True)
    name = peewee.CharField(max_length=255)
    created_by = peewee.CharField(max_length=320)
    created_at = peewee.BigIntegerField()
    expires_at = peewee.BigIntegerField()
    uses_allowed = peewee.IntegerField(default=1)
    uses = peewee.IntegerField(default=0)
    allowed_scopes = peewee.CharField(max_length=1024, default="")  # space-separated
    allowed_grant_types = peewee.CharField(max_length=255, default="")  # space-separated
    allowed_redirect_hosts = peewee.TextField(default="")  # newline-separated
    last_used_at = peewee.BigIntegerField(null=True)
    revoked_at = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "oidc_initial_access_token"


class ProviderSecret(BaseModel):
    """A secret of the provider's own (schema version 13): ``pairwise_salt``."""

    name = peewee.CharField(max_length=64, unique=True)
    value = peewee.CharField(max_length=255)

    class Meta:
        table_name = "oidc_provider_secret"


ALL_MODELS: tuple[type[BaseModel], ...] = (
    SchemaVersion,
    User,
    Client,
    BrowserSession,
    PendingAuthorization,
    Consent,
    AuthorizationCode,
    AccessToken,
    RefreshToken,
    SigningKey,
    AuditEntry,
    AdminToken,
    BackchannelDelivery,
    LoginThrottle,
    OneTimeValue,
    TotpCredential,
    WebAuthnCredential,
    RecoveryCode,
    AccountLink,
    InitialAccessToken,
    ProviderSecret,
)
