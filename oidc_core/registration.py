"""Rules for client metadata on write (RFC 6749 section 3.1.2, RFC 9700 section 2.1).

Redirect URIs are matched by exact string comparison at the authorization endpoint, so
what is accepted here is what can ever be redirected to: absolute URIs without fragment,
``https`` (``http`` only on a loopback host), no whitespace or control characters, no
user information.  ``client_uri`` and an absolute ``logo_uri`` are shown to users on the
consent page and follow the same rules.  Names and descriptions hold no control
characters (:mod:`oidc_core.text`; a description may hold line breaks), so no lone
surrogate reaches the database and no escape sequence reaches a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .claims import SUPPORTED_SCOPES
from .netloc import is_loopback_host
from .records import Client, ClientFields
from .text import has_control_characters
from .ui.translations import N_, Message, english

MAX_REDIRECT_URIS = 20
MAX_URI_LENGTH = 2048


class InvalidField(ValueError):
    """A field of a request is invalid; ``field`` names it."""

    def __init__(self, field: str, message: str | Message) -> None:
        super().__init__(f"{field}: {english(message)}")
        self.field = field
        self.message = english(message)  # for JSON, the command line and logs
        self.page_message = message  # for a page, which translates it


class InvalidMetadata(InvalidField):
    """A field of client metadata is invalid; ``field`` names it."""


def one_of(choices: Iterable[str]) -> Message:
    """ "must be one of a, b, c", as a message a page translates."""
    return Message(N_("must be one of %(choices)s"), {"choices": ", ".join(choices)})


def _count(text: str, count: int) -> Message:
    return Message(text, {"count": count})


def _uri(text: str, uri: str) -> Message:
    """A message about ``uri``, shown quoted (as Python's repr)."""
    return Message(text, {"uri": repr(uri)})


def _check_uri_text(uri: str, field: str) -> None:
    """1 to MAX_URI_LENGTH characters; no whitespace, control character or backslash."""
    if not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidMetadata(
            field, _count(N_("must be 1 to %(count)s characters"), MAX_URI_LENGTH)
        )
    if any(ch.isspace() for ch in uri) or has_control_characters(uri) or "\\" in uri:
        raise InvalidMetadata(
            field, _uri(N_("%(uri)s contains whitespace or control characters"), uri)
        )


def check_redirect_uri(uri: str, field: str = "redirect_uris") -> str:
    _check_uri_text(uri, field)
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidMetadata(field, _uri(N_("%(uri)s is not a valid URI"), uri)) from None
    if parts.scheme not in {"https", "http"} or not host:
        raise InvalidMetadata(field, _uri(N_("%(uri)s must be an absolute https:// URI"), uri))
    if "#" in uri:
        raise InvalidMetadata(field, _uri(N_("%(uri)s must not contain a fragment"), uri))
    if "*" in uri:
        raise InvalidMetadata(
            field, _uri(N_("%(uri)s: no wildcards, URIs are matched exactly"), uri)
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidMetadata(field, _uri(N_("%(uri)s must not contain user information"), uri))
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InvalidMetadata(
            field, _uri(N_("%(uri)s: http:// is allowed only for loopback hosts"), uri)
        )
    return uri


def error_code(field: str, request_fields: frozenset[str] = frozenset()) -> str:
    """RFC 7591 section 3.2.2: the error code of a refused field (``invalid_request`` for
    the caller's own request parameters, ``request_fields``)."""
    if field == "redirect_uris":
        return "invalid_redirect_uri"
    return "invalid_request" if field in request_fields else "invalid_client_metadata"


def check_redirect_uris(uris: list[str]) -> list[str]:
    if not uris:
        raise InvalidMetadata("redirect_uris", N_("at least one redirect URI is required"))
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidMetadata(
            "redirect_uris", _count(N_("at most %(count)s redirect URIs"), MAX_REDIRECT_URIS)
        )
    if len(set(uris)) != len(uris):
        raise InvalidMetadata("redirect_uris", N_("duplicate redirect URI"))
    return [check_redirect_uri(uri) for uri in uris]


def check_post_logout_redirect_uris(uris: Any) -> tuple[str, ...]:
    """RP-Initiated Logout 1.0 section 3.1: the same rules as redirect URIs; may be empty."""
    field = "post_logout_redirect_uris"
    if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
        raise InvalidMetadata(field, N_("must be a list of strings"))
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidMetadata(
            field, _count(N_("at most %(count)s post-logout redirect URIs"), MAX_REDIRECT_URIS)
        )
    if len(set(uris)) != len(uris):
        raise InvalidMetadata(field, N_("duplicate post-logout redirect URI"))
    return tuple(check_redirect_uri(uri, field) for uri in uris)


def check_backchannel_logout_uri(uri: Any) -> str:
    """Back-Channel Logout 1.0 section 2.2: an absolute URI, no fragment; checked like a
    redirect URI (https, http only on loopback); empty: none."""
    field = "backchannel_logout_uri"
    if not isinstance(uri, str):
        raise InvalidMetadata(field, N_("must be a string"))
    return check_redirect_uri(uri, field) if uri else ""


def check_optional_uri(field: str, uri: str) -> str:
    """``client_uri``, an absolute ``logo_uri``: the rules of a redirect URI; empty: none."""
    return check_redirect_uri(uri, field) if uri else ""


def check_name(name: str, field: str = "client_name") -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidMetadata(field, N_("must be 1 to 255 characters"))
    if has_control_characters(name):
        raise InvalidMetadata(field, N_("must not contain control characters"))
    return name


# -- whole client metadata (RFC 7591 names), shared by the console, the API and the CLI --

MAX_DESCRIPTION = 2000
TTL_RANGE = (60, 86400)
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
ACCESS_TOKEN_FORMATS = ("opaque", "jwt")  # jwt: RFC 9068; opaque is the default
SIGNING_ALGORITHMS = ("RS256", "ES256")  # jose.SUPPORTED_ALGORITHMS; RS256 is the default
# authorization_code is always there: every client has redirect URIs and signs users in.
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
FIELDS = frozenset(
    {
        "client_name",
        "description",
        "client_uri",
        "logo_uri",
        "redirect_uris",
        "scope",
        "token_endpoint_auth_method",
        "grant_types",
        "response_types",
        "require_pkce",
        "skip_consent",
        "access_token_ttl",
        "id_token_ttl",
        "id_token_signed_response_alg",
        "post_logout_redirect_uris",
        "access_token_format",
        "backchannel_logout_uri",
        "backchannel_logout_session_required",
        "require_mfa",
        "policy_uri",
        "tos_uri",
        "software_id",
        "software_version",
        "service_id",
        "credential_grant_type",
        "subject_type",
        "sector_identifier_uri",
    }
)
SUBJECT_TYPES = ("public", "pairwise")  # OIDC Core 8; subjects.SUBJECT_TYPES
MAX_SOFTWARE_TEXT = 255
# Decided by an administrator (an ``admin`` API token, the console, the CLI), never by a
# server that provisions its own client: consent, a second factor, token lifetimes.
ADMIN_ONLY = ("skip_consent", "require_mfa", "access_token_ttl", "id_token_ttl")
# The reference billing system's credential kinds (its ``grantType``): both are
# authorization-code clients here; ``single_sign_on`` belongs to one of its services.
CREDENTIAL_GRANT_TYPES = ("authorization_code", "single_sign_on")
MAX_SERVICE_ID = 2**63 - 1  # a BIGINT column


def check_logo_uri(uri: str) -> str:
    """An absolute URL, or a path on the provider (``/modules/servers/cpanel/logo.png``)."""
    if uri.startswith("/") and not uri.startswith("//"):
        _check_uri_text(uri, "logo_uri")
        if "#" in uri:
            raise InvalidMetadata("logo_uri", _uri(N_("%(uri)s is not a valid path"), uri))
        return uri
    return check_optional_uri("logo_uri", uri)


def check_description(description: str) -> str:
    """At most MAX_DESCRIPTION characters; line breaks (a form's CR LF becomes LF) but no
    other control character."""
    description = description.replace("\r\n", "\n")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidMetadata(
            "description", _count(N_("at most %(count)s characters"), MAX_DESCRIPTION)
        )
    if has_control_characters(description, allowed="\n"):
        raise InvalidMetadata("description", N_("must not contain control characters"))
    return description


def check_software_text(value: str, field: str) -> str:
    """RFC 7591 2 ``software_id``/``software_version``: at most MAX_SOFTWARE_TEXT
    characters, no control character; empty: none."""
    if len(value) > MAX_SOFTWARE_TEXT:
        raise InvalidMetadata(field, _count(N_("at most %(count)s characters"), MAX_SOFTWARE_TEXT))
    if has_control_characters(value):
        raise InvalidMetadata(field, N_("must not contain control characters"))
    return value


def check_sector_identifier_uri(uri: str) -> str:
    """OIDC Registration 2 ``sector_identifier_uri``: the rules of a redirect URI, and
    ``https`` only (also on loopback); empty: none.  Its document is checked by
    :mod:`oidc_core.sectors` (which needs the network)."""
    field = "sector_identifier_uri"
    if not uri:
        return ""
    if not uri.startswith("https://"):
        raise InvalidMetadata(field, _uri(N_("%(uri)s must be an https:// URI"), uri))
    return check_redirect_uri(uri, field)


def _subject_type(value: Any) -> str:
    """OIDC Registration 2 ``subject_type``: ``public`` (the default) or ``pairwise``."""
    if value is None or value == "":
        return SUBJECT_TYPES[0]
    if value not in SUBJECT_TYPES:
        raise InvalidMetadata("subject_type", one_of(SUBJECT_TYPES))
    return str(value)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidMetadata(key, N_("must be a string"))
    return value.strip()


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data[key]
    if not isinstance(value, bool):
        raise InvalidMetadata(key, N_("must be true or false"))
    return value


def _ttl(data: Mapping[str, Any], key: str) -> int | None:
    value = data[key]
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMetadata(key, N_("must be a whole number of seconds, or null"))
    low, high = TTL_RANGE
    if not low <= value <= high:
        raise InvalidMetadata(
            key,
            Message(N_("must be between %(low)s and %(high)s seconds"), {"low": low, "high": high}),
        )
    return value


def _scope(value: str) -> str:
    scopes = value.split()
    unknown = [scope for scope in scopes if scope not in SUPPORTED_SCOPES]
    if unknown:
        raise InvalidMetadata(
            "scope", Message(N_("unsupported scope %(scope)s"), {"scope": repr(unknown[0])})
        )
    if "openid" not in scopes:
        raise InvalidMetadata("scope", N_("must include openid"))
    return " ".join(dict.fromkeys(scopes))


def _grant_types(value: Any) -> tuple[str, ...]:
    """RFC 7591 2: the grants the client may use, in our canonical order."""
    field = "grant_types"
    if not isinstance(value, list) or not all(isinstance(grant, str) for grant in value):
        raise InvalidMetadata(field, N_("must be a list of strings"))
    unknown = [grant for grant in value if grant not in GRANT_TYPES]
    if unknown:
        raise InvalidMetadata(
            field, Message(N_("unsupported grant type %(grant)s"), {"grant": repr(unknown[0])})
        )
    if "authorization_code" not in value:
        raise InvalidMetadata(field, N_("must include authorization_code"))
    return tuple(grant for grant in GRANT_TYPES if grant in value)


def _service_id(value: Any) -> int | None:
    """The reference billing system's ``serviceId`` (the service a single sign-on
    credential belongs to): a positive whole number; null or "" for none."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SERVICE_ID:
        raise InvalidMetadata("service_id", N_("must be a positive whole number"))
    return value


def _credential_grant_type(value: Any) -> str | None:
    """The reference billing system's ``grantType`` (:data:`CREDENTIAL_GRANT_TYPES`);
    null or "" for none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in CREDENTIAL_GRANT_TYPES:
        raise InvalidMetadata("credential_grant_type", one_of(CREDENTIAL_GRANT_TYPES))
    return value


def _id_token_alg(value: Any) -> str | None:
    """OIDC Registration 2 ``id_token_signed_response_alg``: RS256 (the default) or ES256."""
    if value is None or value == "":
        return None
    if value not in SIGNING_ALGORITHMS:
        raise InvalidMetadata("id_token_signed_response_alg", one_of(SIGNING_ALGORITHMS))
    return None if value == SIGNING_ALGORITHMS[0] else str(value)


def _access_token_format(value: Any) -> str:
    """``opaque`` (the default) or ``jwt``: an RFC 9068 JWT access token."""
    if value is None or value == "":
        return ACCESS_TOKEN_FORMATS[0]
    if value not in ACCESS_TOKEN_FORMATS:
        raise InvalidMetadata("access_token_format", one_of(ACCESS_TOKEN_FORMATS))
    return str(value)


def client_fields(data: Mapping[str, Any], current: ClientFields | None = None) -> ClientFields:
    """Validate client metadata; with ``current`` (an update) absent keys keep their value.

    Raises :class:`InvalidMetadata` naming the first invalid field; nothing is changed then.
    """
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InvalidMetadata(unknown[0], N_("unknown field"))
    if current is None:
        for required in ("client_name", "redirect_uris"):
            if required not in data:
                raise InvalidMetadata(required, N_("is required"))
    values = dict(vars(current)) if current is not None else {}
    if "client_name" in data:
        values["name"] = check_name(_text(data, "client_name"))
    if "description" in data:
        values["description"] = check_description(_text(data, "description"))
    if "client_uri" in data:
        values["client_uri"] = check_optional_uri("client_uri", _text(data, "client_uri"))
    if "logo_uri" in data:
        logo = _text(data, "logo_uri")
        values["logo_uri"] = check_logo_uri(logo) if logo else ""
    for key in ("policy_uri", "tos_uri"):  # OIDC Registration 2: shown to the user
        if key in data:
            values[key] = check_optional_uri(key, _text(data, key))
    for key in ("software_id", "software_version"):
        if key in data:
            values[key] = check_software_text(_text(data, key), key)
    if "redirect_uris" in data:
        uris = data["redirect_uris"]
        if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
            raise InvalidMetadata("redirect_uris", "must be a list of strings")
        values["redirect_uris"] = tuple(check_redirect_uris(uris))
    if "post_logout_redirect_uris" in data:
        values["post_logout_redirect_uris"] = check_post_logout_redirect_uris(
            data["post_logout_redirect_uris"]
        )
    if "scope" in data:
        values["allowed_scopes"] = _scope(_text(data, "scope"))
    if "grant_types" in data:
        values["grant_types"] = _grant_types(data["grant_types"])
    if "response_types" in data and data["response_types"] != ["code"]:
        raise InvalidMetadata("response_types", 'only ["code"] is supported')
    if "token_endpoint_auth_method" in data:
        method = data["token_endpoint_auth_method"]
        if method not in AUTH_METHODS:
            raise InvalidMetadata(
                "token_endpoint_auth_method", f"must be one of {', '.join(AUTH_METHODS)}"
            )
        values["is_public"] = method == "none"
        values["token_endpoint_auth_method"] = method
    if "backchannel_logout_uri" in data:
        values["backchannel_logout_uri"] = check_backchannel_logout_uri(
            data["backchannel_logout_uri"]
        )
    for key in (
        "require_pkce",
        "skip_consent",
        "backchannel_logout_session_required",
        "require_mfa",
    ):
        if key in data:
            values[key] = _flag(data, key)
    for key in ("access_token_ttl", "id_token_ttl"):
        if key in data:
            values[key] = _ttl(data, key)
    if "id_token_signed_response_alg" in data:
        values["id_token_signed_response_alg"] = _id_token_alg(data["id_token_signed_response_alg"])
    if "access_token_format" in data:
        values["access_token_format"] = _access_token_format(data["access_token_format"])
    if "service_id" in data:
        values["service_id"] = _service_id(data["service_id"])
    if "credential_grant_type" in data:
        values["credential_grant_type"] = _credential_grant_type(data["credential_grant_type"])
    if values.get("credential_grant_type") == "single_sign_on" and not values.get("service_id"):
        raise InvalidMetadata("service_id", "is required for the single_sign_on grant type")
    if "subject_type" in data:
        values["subject_type"] = _subject_type(data["subject_type"])
    if "sector_identifier_uri" in data:
        values["sector_identifier_uri"] = check_sector_identifier_uri(
            _text(data, "sector_identifier_uri")
        )
    if values.get("is_public"):
        values["require_pkce"] = True  # RFC 9700 2.1.1: public clients must use PKCE
        if "client_credentials" in values.get("grant_types", ()):
            raise InvalidMetadata(
                "grant_types", "client_credentials needs a confidential client (a secret)"
            )
    return ClientFields(**values)


def auth_method(client: Client) -> str:
    """RFC 7591 2 ``token_endpoint_auth_method`` as registered; a client that never said
    is ``none`` when public, else ``client_secret_basic`` (either secret method works)."""
    registered = client.token_endpoint_auth_method
    derived = AUTH_METHODS[2] if client.is_public else AUTH_METHODS[0]  # none, basic
    if registered in AUTH_METHODS and client.is_public == (registered == AUTH_METHODS[2]):
        return registered
    return derived


def client_metadata(client: Client, last_used_at: int | None = None) -> dict[str, Any]:
    """A client as RFC 7591 metadata (plus our own fields); never a secret."""
    return {
        "client_id": client.client_id,
        "client_name": client.name,
        "description": client.description,
        "client_uri": client.client_uri,
        "logo_uri": client.logo_uri,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "scope": " ".join(sorted(client.allowed_scopes)),
        "grant_types": list(client.grant_types),
        "response_types": ["code"],
        "token_endpoint_auth_method": auth_method(client),
        "require_pkce": client.require_pkce or client.is_public,
        "skip_consent": client.skip_consent,
        "access_token_ttl": client.access_token_ttl,
        "id_token_ttl": client.id_token_ttl,
        "id_token_signed_response_alg": client.id_token_signed_response_alg
        or SIGNING_ALGORITHMS[0],
        "access_token_format": client.access_token_format,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "require_mfa": client.require_mfa,
        "policy_uri": client.policy_uri,
        "tos_uri": client.tos_uri,
        "software_id": client.software_id,
        "software_version": client.software_version,
        "service_id": client.service_id,
        "credential_grant_type": client.credential_grant_type,
        "subject_type": client.subject_type,
        "sector_identifier_uri": client.sector_identifier_uri,
        "client_id_issued_at": client.created_at,
        "updated_at": client.updated_at,
        "last_used_at": last_used_at,
    }
