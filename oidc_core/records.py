"""Plain records that cross the storage boundary (no ORM objects leave ``storage/``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# An account's status (``oidc_user.status``): only an active one signs in and has its
# tokens honoured; see :mod:`oidc_core.account_status` for what each change ends.
ACTIVE, SUSPENDED, CLOSED = "active", "suspended", "closed"
ACCOUNT_STATUSES = (ACTIVE, SUSPENDED, CLOSED)


@dataclass(frozen=True)
class Client:
    id: int
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[str]
    description: str = ""
    client_uri: str = ""
    logo_uri: str = ""
    require_pkce: bool = False
    skip_consent: bool = False
    is_public: bool = False
    access_token_ttl: int | None = None
    id_token_ttl: int | None = None
    id_token_signed_response_alg: str | None = None  # None: RS256
    secret_digest: str = field(default="", repr=False)
    previous_secret_digest: str | None = field(default=None, repr=False)
    previous_secret_expires_at: int | None = None
    created_at: int = 0
    updated_at: int = 0
    grant_types: tuple[str, ...] = ("authorization_code",)
    post_logout_redirect_uris: tuple[str, ...] = ()
    access_token_format: str = "opaque"  # noqa: S105 - or "jwt" (RFC 9068), not a secret
    backchannel_logout_uri: str = ""
    backchannel_logout_session_required: bool = False
    require_mfa: bool = False  # every sign-in for it needs a second factor
    # schema version 13
    policy_uri: str = ""
    tos_uri: str = ""
    software_id: str = ""
    software_version: str = ""
    subject_type: str = "public"  # or "pairwise" (OIDC Core 8.1)
    sector_identifier_uri: str = ""
    sector_identifier: str = ""  # the host that pairwise subjects are computed for
    service_id: int | None = None  # the reference system's serviceId
    credential_grant_type: str | None = None  # its grantType (single_sign_on, ...)
    registration_token_digest: str | None = field(default=None, repr=False)
    initial_access_token_id: int | None = None  # registered with it (RFC 7591)
    token_endpoint_auth_method: str | None = None  # as registered (None: not given)

    @property
    def grantable_scopes(self) -> frozenset[str]:
        """The scopes a user can grant this client: its allowed ones, ``offline_access``
        only if it may use refresh tokens (OIDC Core 11)."""
        if "refresh_token" in self.grant_types:
            return self.allowed_scopes
        return self.allowed_scopes - {"offline_access"}


@dataclass(frozen=True)
class User:
    """A row of the subject registry: a built-in account, or a host account's ``sub``."""

    id: int
    subject: str
    email: str | None
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    preferred_username: str = ""
    locale: str = ""
    email_verified: bool = False
    is_admin: bool = False
    password_hash: str = field(default="", repr=False)
    updated_at: int = 0
    external_id: str | None = None
    # ACCOUNT_STATUSES: only an active account signs in and has its tokens honoured
    status: str = ACTIVE
    status_changed_at: int | None = None


@dataclass(frozen=True)
class BrowserSession:
    id: int
    csrf_secret: str = field(repr=False)
    user_id: int | None
    auth_time: int | None
    expires_at: int
    sid: str | None = None  # the public session identifier (Back-Channel Logout 1.0)
    # how the user signed in: RFC 8176 method values (:mod:`oidc_core.authn`)
    amr: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in half done in a browser session: ``user_id``'s first factor checked at
    ``started_at`` (the methods so far: ``amr``), a second factor still to come."""

    user_id: int
    amr: tuple[str, ...]
    started_at: int


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization request waiting for login and consent (the interaction)."""

    id: int
    handle: str
    session_id: int
    client_id: str
    params: list[tuple[str, str]]
    expires_at: int
    completed: bool


@dataclass(frozen=True)
class LogoutDelivery:
    """A logout token due to be POSTed to a client's ``backchannel_logout_uri``."""

    id: int
    uri: str
    logout_token: str = field(repr=False)
    attempts: int
    next_attempt_at: int


@dataclass(frozen=True)
class CodeGrant:
    """An authorization code as stored, with the user it was issued for."""

    id: int
    client_pk: int
    user: User
    redirect_uri: str
    scopes: tuple[str, ...]
    nonce: str | None
    claims: dict[str, Any] | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: int
    used: bool
    sid: str | None = None  # the browser session it was issued in
    # how the user signed in (RFC 8176) and the context class stated; None: a code
    # issued before they were recorded (schema 12)
    amr: tuple[str, ...] | None = None
    acr: str | None = None


@dataclass(frozen=True)
class AccessTokenGrant:
    """A live access token with its user (None: client credentials) and scopes."""

    id: int
    client_id: str
    user: User | None
    scopes: tuple[str, ...]
    expires_at: int
    # its client's, deciding the ``sub`` the client sees (:mod:`oidc_core.subjects`)
    subject_type: str = "public"
    sector_identifier: str = ""


@dataclass(frozen=True)
class RefreshTokenGrant:
    """A refresh token as stored (used, revoked or expired too), with its user."""

    id: int
    grant_id: int
    client_pk: int
    user: User
    scopes: tuple[str, ...]
    auth_time: int
    created_at: int
    expires_at: int
    absolute_expires_at: int
    used: bool
    revoked: bool
    amr: tuple[str, ...] | None = None  # as the code it descends from (None: not recorded)
    acr: str | None = None

    def live(self, now: float) -> bool:
        return (
            not (self.used or self.revoked) and min(self.expires_at, self.absolute_expires_at) > now
        )


@dataclass(frozen=True)
class TokenInfo:
    """What introspection may tell the owning client about a live token (RFC 7662 2.2)."""

    kind: str  # access_token | refresh_token
    client_pk: int
    client_id: str
    subject: str | None
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int


@dataclass(frozen=True)
class ConnectedApp:
    """A client a user authorized (a consent, or live tokens), as the account pages show it."""

    client: Client
    scopes: tuple[str, ...]
    first_authorized_at: int | None
    last_used_at: int | None


@dataclass(frozen=True)
class UserSession:
    """One of a user's live browser sessions, as the sessions page shows it."""

    id: int
    signed_in_at: int | None
    expires_at: int
    user_agent: str
    ip_address: str


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: str
    private_pem: str = field(repr=False)
    state: str
    created_at: int
    activated_at: int | None = None
    retired_at: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    target: str
    details: dict[str, Any]


@dataclass(frozen=True)
class AdminToken:
    id: int
    name: str
    created_by: str
    created_at: int
    last_used_at: int | None
    revoked_at: int | None
    scopes: tuple[str, ...] = ("admin",)  # sorted


@dataclass(frozen=True)
class InitialAccessToken:
    """RFC 7591 section 3: lets a server register clients, within its limits (an empty
    limit: none)."""

    id: int
    name: str
    created_by: str
    created_at: int
    expires_at: int
    uses_allowed: int
    uses: int
    allowed_scopes: frozenset[str] = frozenset()
    allowed_grant_types: frozenset[str] = frozenset()
    allowed_redirect_hosts: tuple[str, ...] = ()
    last_used_at: int | None = None
    revoked_at: int | None = None


@dataclass(frozen=True)
class ClientFields:
    """Everything an administrator sets on a client, validated (``registration``)."""

    name: str
    redirect_uris: tuple[str, ...]
    description: str = ""
    client_uri: str = ""
    logo_uri: str = ""
    allowed_scopes: str = "openid profile email"
    require_pkce: bool = False
    skip_consent: bool = False
    is_public: bool = False
    access_token_ttl: int | None = None
    id_token_ttl: int | None = None
    grant_types: tuple[str, ...] = ("authorization_code",)
    id_token_signed_response_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    access_token_format: str = "opaque"  # noqa: S105 - a format, not a secret
    backchannel_logout_uri: str = ""
    backchannel_logout_session_required: bool = False
    require_mfa: bool = False
    policy_uri: str = ""
    tos_uri: str = ""
    software_id: str = ""
    software_version: str = ""
    subject_type: str = "public"
    sector_identifier_uri: str = ""
    sector_identifier: str = ""
    service_id: int | None = None
    credential_grant_type: str | None = None
    token_endpoint_auth_method: str | None = None

    @classmethod
    def of(cls, client: Client) -> ClientFields:
        return cls(
            name=client.name,
            redirect_uris=client.redirect_uris,
            description=client.description,
            client_uri=client.client_uri,
            logo_uri=client.logo_uri,
            allowed_scopes=" ".join(sorted(client.allowed_scopes)),
            require_pkce=client.require_pkce,
            skip_consent=client.skip_consent,
            is_public=client.is_public,
            access_token_ttl=client.access_token_ttl,
            id_token_ttl=client.id_token_ttl,
            grant_types=client.grant_types,
            id_token_signed_response_alg=client.id_token_signed_response_alg,
            post_logout_redirect_uris=client.post_logout_redirect_uris,
            access_token_format=client.access_token_format,
            backchannel_logout_uri=client.backchannel_logout_uri,
            backchannel_logout_session_required=client.backchannel_logout_session_required,
            require_mfa=client.require_mfa,
            policy_uri=client.policy_uri,
            tos_uri=client.tos_uri,
            software_id=client.software_id,
            software_version=client.software_version,
            subject_type=client.subject_type,
            sector_identifier_uri=client.sector_identifier_uri,
            sector_identifier=client.sector_identifier,
            service_id=client.service_id,
            credential_grant_type=client.credential_grant_type,
            token_endpoint_auth_method=client.token_endpoint_auth_method,
        )

    def columns(self) -> dict[str, Any]:
        values = asdict(self)
        values["redirect_uris"] = "\n".join(self.redirect_uris)
        values["grant_types"] = " ".join(self.grant_types)
        values["post_logout_redirect_uris"] = "\n".join(self.post_logout_redirect_uris)
        return values


@dataclass(frozen=True)
class AccountLink:
    """A link sent by email (:mod:`oidc_core.account.links`): to ``reset`` the password of
    ``user_id`` or to ``verify`` the address ``email``."""

    id: int
    user_id: int
    purpose: str
    email: str
    expires_at: int
