"""Provider configuration: one frozen dataclass, one parser.

Every option is a field of :class:`Settings` with a default and a description (the
``metadata["doc"]`` of the field, rendered in ``docs/configuration.md``).  The only way in
is :meth:`Settings.from_mapping` (Pyramid ``.ini`` sections, Bottle config, tests) and its
environment wrapper :meth:`Settings.from_env` (``OIDC_*`` variables, used by gunicorn).
Invalid values fail at start-up with the key's name (the rules: :mod:`oidc_core.settings_checks`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .netloc import LOOPBACK_HOSTS
from .settings_checks import ConfigurationError as ConfigurationError
from .settings_checks import check, coerce

log = logging.getLogger(__name__)


def _doc(text: str, default: Any) -> Any:
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class Settings:
    """Every option of the provider, with its default."""

    issuer: str = _doc(
        "The issuer identifier: discovery, `iss` and every endpoint URL derive from it. "
        "Must be `https://` except on a loopback host (development).",
        "http://127.0.0.1:8000",
    )
    database_url: str = _doc(
        "Where state lives: `sqlite:///relative.db`, `sqlite:////absolute.db`, "
        "`postgresql://user@host/db` (needs the `postgresql` extra), a pool of connections "
        "per process: `postgresql+pool://user@host/db?max_connections=20&stale_timeout=300`, "
        "or `mysql://user:password@host/db` for MySQL or MariaDB (needs the `mysql` extra; "
        "`mysql+pool://...` pools them likewise).",
        "sqlite:///oidc-core.db",
    )
    database_statement_timeout_ms: int = _doc(
        "Longest a database statement may take, waiting for a lock included, in "
        "milliseconds; beyond it the request is answered 503. Keep it well under the worker "
        "timeout (30 s): PostgreSQL's `statement_timeout`, SQLite's busy timeout; on MySQL "
        "and MariaDB lock waits (in whole seconds) and MariaDB's `max_statement_time`, "
        "MySQL's `max_execution_time` (SELECT only): see `docs/deployment.md`.",
        5000,
    )
    code_ttl: int = _doc("Lifetime of an authorization code, in seconds (RFC 9700: short).", 60)
    access_token_ttl: int = _doc("Lifetime of an access token, in seconds.", 3600)
    id_token_ttl: int = _doc("Lifetime of an ID token, in seconds.", 3600)
    refresh_token_idle_ttl: int = _doc(
        "A refresh token expires when unused for this long, in seconds (each refresh "
        "issues a new one with a fresh idle lifetime).",
        14 * 86400,
    )
    refresh_token_absolute_ttl: int = _doc(
        "No refresh token of a grant outlives this, counted from the code exchange, "
        "in seconds; the user must sign in again after it.",
        90 * 86400,
    )
    session_ttl: int = _doc("Lifetime of the provider's browser session, in seconds.", 86400)
    interaction_ttl: int = _doc(
        "How long a pending authorization request (login and consent pages) stays valid, "
        "in seconds.",
        1800,
    )
    session_cookie_name: str = _doc(
        "Name of the provider's browser session cookie.", "oidc_session"
    )
    require_pkce: bool = _doc("Require PKCE (S256) from every client, not only public ones.", False)
    password_time_cost: int = _doc("argon2id time cost (iterations).", 2)
    password_memory_cost: int = _doc("argon2id memory cost in KiB.", 19456)
    password_parallelism: int = _doc("argon2id parallelism.", 1)
    password_max_length: int = _doc(
        "Longest password accepted, in bytes (checked before hashing).", 1024
    )
    password_hash_concurrency: int = _doc(
        "How many password hashes one process computes at once; further logins wait, so "
        "logins cannot starve the token endpoint.",
        2,
    )
    key_cache_seconds: int = _doc(
        "How long a process keeps the signing keys it read from the database before "
        "reading them again (a key rotated on another host is seen after this).",
        300,
    )
    key_rotation_days: int = _doc(
        "Rotate the signing keys automatically when the current key is this many days old "
        "(0: only by `oidc-core keys rotate`). Done lazily by whichever process reloads "
        "its keys first; see `docs/deployment.md`.",
        0,
    )
    trusted_proxies: tuple[str, ...] = _doc(
        "Addresses (or networks) whose `X-Forwarded-For` header is trusted for the client "
        "address. Comma-separated in the environment.",
        (),
    )
    host_login_url: str = _doc(
        "With host login (`docs/hosting.md`): the host application's own login page, where "
        "a user who is not signed in to the host is sent, with `next` set to the provider "
        "URL to come back to. Empty: the provider's own login page. An absolute URL or a "
        "path on the same site.",
        "",
    )
    max_body_bytes: int = _doc("Largest request body accepted, in bytes (413 beyond).", 65536)
    max_param_length: int = _doc(
        "Longest single parameter value accepted at the protocol endpoints, in characters.",
        4096,
    )
    consent_ttl: int = _doc(
        "How long a user's consent to an app is remembered, in seconds; after it the consent "
        "page asks again. 0: until the user revokes it.",
        31536000,
    )
    login_lock_threshold: int = _doc(
        "Failed sign-ins for one account (from anywhere) before it is locked for a while.",
        20,
    )
    login_pair_lock_threshold: int = _doc(
        "Failed sign-ins for one account from one IP address before that address is locked "
        "out of that account for a while (so an attacker is stopped before the account is).",
        5,
    )
    login_ip_lock_threshold: int = _doc(
        "Failed sign-ins from one IP address (any accounts) before that address is locked "
        "for a while.",
        50,
    )
    login_lock_seconds: int = _doc(
        "The first lock's duration in seconds; each further failure doubles it, up to "
        "`login_lock_max_seconds`. Locks are always temporary.",
        30,
    )
    login_lock_max_seconds: int = _doc("The longest lock, in seconds.", 900)
    login_failure_window: int = _doc(
        "Failures older than this many seconds (with none since) are forgotten.", 3600
    )
    password_change_revokes_refresh_tokens: bool = _doc(
        "When a user changes their password on the account pages, revoke every refresh token "
        "(and access token) issued to them, and end their other browser sessions.",
        True,
    )
    profile_editable_claims: tuple[str, ...] = _doc(
        "Claims users may edit on their profile page (built-in accounts only; a host's own "
        "account source keeps its data). Comma-separated in the environment.",
        ("name", "given_name", "family_name", "preferred_username", "locale"),
    )
    max_header_bytes: int = _doc(
        "Largest total size of the request headers, in bytes (431 beyond).", 16384
    )
    max_url_length: int = _doc(
        "Longest request target (path and query), in bytes (414 beyond). The default leaves "
        "room for a 2048-character state of percent-encoded Unicode in an authorization "
        "request. Under `oidc-core serve` it is 8172 unless set, and at most that: gunicorn "
        "reads request lines of at most 8190 bytes.",
        16384,
    )
    backchannel_allow_private_addresses: bool | None = _doc(
        "Whether back-channel logout tokens may be sent to a client whose host resolves to "
        "an address that is not public: loopback, private (`10.0.0.0/8`, `172.16.0.0/12`, "
        "`192.168.0.0/16`, `fc00::/7`), link-local (`169.254.0.0/16`, where clouds serve "
        "instance metadata, `fe80::/10`), shared, reserved or multicast. Every address the "
        "host resolves to is checked, and the provider connects only to an address it "
        "checked. `auto`: allowed when the issuer is on a loopback host (development), "
        "refused otherwise. The same rule applies to fetching a pairwise client's "
        "`sector_identifier_uri`.",
        None,
    )
    backchannel_proxy: str = _doc(
        "An HTTP proxy through which back-channel logout tokens are sent (and "
        "`sector_identifier_uri` documents fetched), "
        "`http://host:port` (https URIs through a `CONNECT` tunnel: TLS and the certificate "
        "check stay end to end). The proxy then resolves the clients' host names, so its "
        "rules must refuse private addresses; the provider refuses only IP addresses and "
        "`localhost` then. Empty: sent directly. Proxy variables of the environment "
        "(`HTTP_PROXY`, `https_proxy`, ...) are never used.",
        "",
    )
    require_mfa: bool = _doc(
        "Every sign-in needs a second factor (an authenticator app's code or a passkey); "
        "a user without one is led through enrolling an authenticator app when signing in.",
        False,
    )
    require_mfa_for_admins: bool = _doc(
        "Administrators need a second factor to sign in, enrolling one if they have none "
        "(whatever this says, a user who has a second factor always needs it).",
        False,
    )
    second_factor_ttl: int = _doc(
        "How long a sign-in may wait for its second factor after the password, in seconds.",
        300,
    )
    open_registration: bool = _doc(
        "Let anyone register a client at the registration endpoint (RFC 7591) without an "
        "initial access token. Leave it off on a provider reachable from the internet: "
        "issue initial access tokens instead (`docs/administration.md`).",
        False,
    )
    sql_echo: bool = _doc("Log every SQL statement (debugging only).", False)
    log_format: str = _doc(
        "How `oidc-core serve` and the standalone server write logs: `text` (one line per "
        "record) or `json` (one JSON object per line). Applications that mount the "
        "provider configure their own logging (`docs/deployment.md`).",
        "text",
    )
    smtp_host: str = _doc(
        "The SMTP server that sends the provider's mail (password reset and email "
        "verification links). Empty: no mail is sent; on a loopback issuer (development, "
        "`oidc-core serve`) each message is written to the log instead, links included.",
        "",
    )
    smtp_port: int = _doc("The SMTP server's port (587: submission with STARTTLS).", 587)
    smtp_security: str = _doc(
        "How the connection to the SMTP server is protected: `starttls` (upgrade a plain "
        "connection, refused if the server does not offer it), `ssl` (TLS from the first "
        "byte, usually port 465) or `none` (plain text: only to a loopback host). The "
        "server's certificate is always checked.",
        "starttls",
    )
    smtp_username: str = _doc("The SMTP login, if the server asks for one (empty: none).", "")
    smtp_password: str = field(  # kept out of repr(): settings get logged and printed
        default="", repr=False, metadata={"doc": "The SMTP password of `smtp_username`."}
    )
    smtp_ca_file: str = _doc(
        "A PEM file of the certificate authorities to trust for the SMTP server's "
        "certificate (empty: the system's).",
        "",
    )
    smtp_timeout: int = _doc(
        "Longest wait for the SMTP server, in seconds, per connection step. Mail is sent "
        "in the background: no page waits for it.",
        10,
    )
    mail_from: str = _doc(
        "The `From` address of the provider's mail (empty: `no-reply@` and the issuer's host).",
        "",
    )
    brand_name: str = _doc(
        "The provider's name on its pages (the login page's heading, sign-out pages, the "
        "footer). Empty: the issuer's host name.",
        "",
    )
    brand_logo: str = _doc(
        "The logo on the login page: a PNG, JPEG, GIF, WebP or SVG file (at most 512 KiB, "
        "read at start-up and served under `/static/brand/`) or an `https://` URL. "
        "Empty: none. See `docs/templates.md`.",
        "",
    )
    brand_favicon: str = _doc(
        "The pages' icon: a file (as `brand_logo`, ICO too) or an `https://` URL. Empty: none.",
        "",
    )
    brand_accent_colour: str = _doc(
        "The accent colour of buttons and links, `#rrggbb`. Refused when its contrast "
        "with the text on it or with the page's white background is below WCAG AA "
        "(4.5:1); the dark scheme uses it, or a lighter shade where it would be too dark. "
        "Empty: the bundled blue.",
        "",
    )
    support_url: str = _doc(
        "Where users get help, linked in the pages' footer: an `https://` or `mailto:` "
        "URL. Empty: no link.",
        "",
    )
    op_policy_uri: str = _doc(
        "The provider's privacy policy (`https://`), linked in the pages' footer and "
        "published in discovery as `op_policy_uri`. Empty: none.",
        "",
    )
    op_tos_uri: str = _doc(
        "The provider's terms of service (`https://`), linked in the footer and published "
        "in discovery as `op_tos_uri`. Empty: none.",
        "",
    )
    service_documentation: str = _doc(
        "Documentation for developers of relying parties (`https://`), linked in the "
        "footer and published in discovery as `service_documentation`. Empty: none.",
        "",
    )
    templates_dir: str = _doc(
        "A directory of templates that replace the bundled ones of the same name; an "
        "override can extend the bundled page as `bundled/<name>` and change one block "
        "(`docs/templates.md`; `oidc-core templates copy DIR` writes the bundled ones). "
        "Its `.html` and `.txt` files are compiled at start-up: one with an error stops it. "
        "Empty: the bundled templates only.",
        "",
    )

    def __post_init__(self) -> None:
        check(vars(self))

    @property
    def is_loopback(self) -> bool:
        """True when the issuer is on a loopback host (development without TLS)."""
        return (urlsplit(self.issuer).hostname or "") in LOOPBACK_HOSTS

    @property
    def backchannel_private_addresses_allowed(self) -> bool:
        """``backchannel_allow_private_addresses``, ``auto`` decided by the issuer."""
        if self.backchannel_allow_private_addresses is None:
            return self.is_loopback
        return self.backchannel_allow_private_addresses

    @property
    def mail_sender(self) -> str:
        """``mail_from``, or ``no-reply@`` and the issuer's host."""
        return self.mail_from or f"no-reply@{urlsplit(self.issuer).hostname}"

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], prefix: str = "oidc.") -> Settings:
        """Build settings from ``prefix + name`` keys; unknown prefixed keys are errors."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in mapping.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :].lower()
            if name not in fields:
                raise ConfigurationError(f"{key}: unknown setting")
            values[name] = coerce(key, raw, fields[name].default)
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``OIDC_*`` environment variables; errors name the variable.

        An ``OIDC_*`` variable that is no setting is logged as a warning (a typo must not
        pass silently), except the ``OIDC_TEST_*`` and ``OIDC_CI_*`` ones of the test suite.
        """
        environ = os.environ if environ is None else environ
        known = {f.name for f in dataclasses.fields(cls)}
        mapping = {}
        for key, value in environ.items():
            if not key.startswith("OIDC_"):
                continue
            if key[5:].lower() in known:
                mapping["oidc." + key[5:].lower()] = value
            elif not key.startswith(("OIDC_TEST_", "OIDC_CI_")):
                log.warning("ignoring %s: there is no such setting", key)
        try:
            return cls.from_mapping(mapping)
        except ConfigurationError as exc:
            name, _, reason = str(exc).partition(":")
            variable = "OIDC_" + name.removeprefix("oidc.").upper()
            raise ConfigurationError(f"{variable}:{reason}") from None


def reference_markdown() -> str:
    """The configuration reference table (``docs/configuration.md`` is generated from it)."""
    lines = [
        "| setting | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for f in dataclasses.fields(Settings):
        default = f.default
        if default is None:
            shown = "auto"
        elif isinstance(default, tuple):
            shown = ", ".join(default) or "(none)"
        elif isinstance(default, bool):
            shown = str(default).lower()
        else:
            shown = str(default)
        doc = f.metadata["doc"].replace("|", "\\|")
        lines.append(f"| `oidc.{f.name}` | `OIDC_{f.name.upper()}` | `{shown}` | {doc} |")
    return "\n".join(lines) + "\n"
