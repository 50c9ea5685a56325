"""What a server that registers itself may ask for (RFC 7591 section 2, RFC 7592 section 2.2),
on top of the rules every client's metadata follows (:mod:`oidc_core.registration`).

* Metadata we do not know is ignored (RFC 7591 section 2: "the authorization server MAY
  ignore any client metadata sent by the client that it does not understand"), so a
  client library's extras (``contacts``, ``application_type``) do no harm.
* Metadata we know but do not support is refused, so that no client believes it got what
  it asked for: signed or encrypted UserInfo responses, encrypted ID tokens, request
  objects, and key material (``jwks``, ``jwks_uri``: we offer no ``private_key_jwt``).
* Fields only an administrator sets are refused; an RFC 7592 update keeps their values.
* An initial access token's limits (allowed scopes, grant types, hosts; each empty: no
  limit) bound every registration made with it and every later update of the clients it
  registered, even once it expired, was used up or revoked.  The host limit covers every
  URI of the client: redirect, logout and back-channel URIs, the sector document (checked
  before it is fetched) and the URIs the consent page shows (client, logo, policy, terms).

:func:`requested` turns a request body into the metadata to validate; :func:`check_limits`
checks the validated fields against a token's limits.  Both raise
:class:`~oidc_core.registration.InvalidMetadata` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .records import ClientFields, InitialAccessToken
from .registration import ADMIN_ONLY, FIELDS, InvalidMetadata

# OIDC Registration 2 and RFC 7591 2 metadata we understand and do not support.
UNSUPPORTED = (
    "jwks",
    "jwks_uri",
    "token_endpoint_auth_signing_alg",
    "userinfo_signed_response_alg",
    "userinfo_encrypted_response_alg",
    "userinfo_encrypted_response_enc",
    "id_token_encrypted_response_alg",
    "id_token_encrypted_response_enc",
    "request_object_signing_alg",
    "request_object_encryption_alg",
    "request_object_encryption_enc",
    "request_uris",
)
# What a registration may set, with the value an omitted field takes (RFC 7592 2.2:
# "omitted fields MUST be treated as null or empty values").  ``client_name`` and ``scope``
# have defaults of their own (:func:`requested`); ``redirect_uris`` is required.  Only the
# fields :mod:`oidc_core.registration` knows are sent to it.
DEFAULTS: dict[str, Any] = {
    "description": "",
    "client_uri": "",
    "logo_uri": "",
    "policy_uri": "",
    "tos_uri": "",
    "software_id": "",
    "software_version": "",
    "post_logout_redirect_uris": [],
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code"],
    "response_types": ["code"],
    "require_pkce": False,
    "id_token_signed_response_alg": None,
    "access_token_format": "opaque",
    "backchannel_logout_uri": "",
    "backchannel_logout_session_required": False,
}
# Registrable, but an update that omits them keeps them: a client's pairwise subjects
# (OIDC Core 8.1) never change because a PUT forgot to repeat them.
KEPT = ("subject_type", "sector_identifier_uri")
REGISTRABLE = frozenset({"client_name", "redirect_uris", "scope", *DEFAULTS, *KEPT}) & FIELDS
DEFAULT_SCOPE = ClientFields(name="", redirect_uris=()).allowed_scopes


@dataclass(frozen=True)
class Limits:
    """What an initial access token allows (empty: no limit)."""

    scopes: frozenset[str] = frozenset()
    grant_types: frozenset[str] = frozenset()
    redirect_hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, token: InitialAccessToken | None) -> Limits:
        """The token's limits; none for open registration (no token)."""
        if token is None:
            return cls()
        return cls(
            token.allowed_scopes,
            token.allowed_grant_types,
            frozenset(host.lower() for host in token.allowed_redirect_hosts),
        )


def requested(body: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The metadata to register from a request body: unknown fields dropped, unsupported
    and administrator-only ones refused, every omitted field at its default."""
    for key in UNSUPPORTED:
        if body.get(key) is not None:
            raise InvalidMetadata(key, "is not supported by this provider")
    for key in ADMIN_ONLY:
        if key in body:
            raise InvalidMetadata(key, "is set by an administrator, not at registration")
    data = {key: value for key, value in DEFAULTS.items() if key in REGISTRABLE}
    data.update((key, value) for key, value in body.items() if key in REGISTRABLE)
    if "scope" not in data:  # RFC 7591 2: the server may register a default set
        data["scope"] = " ".join(sorted(limits.scopes)) if limits.scopes else DEFAULT_SCOPE
    if "client_name" not in data:  # optional in RFC 7591 2; we show every client's name
        data["client_name"] = _first_host(data.get("redirect_uris")) or "Registered client"
    logo = data.get("logo_uri")
    if isinstance(logo, str) and logo.startswith("/"):  # a path on the provider: admins only
        raise InvalidMetadata("logo_uri", "must be an absolute https URL (RFC 7591 2)")
    sector = data.get("sector_identifier_uri")
    if isinstance(sector, str) and sector:  # before the document is fetched
        _check_host(limits, "sector_identifier_uri", sector)
    return data


def _check_host(limits: Limits, field: str, uri: str) -> None:
    if not limits.redirect_hosts or not uri:
        return
    try:
        host = urlsplit(uri).hostname or ""
    except ValueError:
        host = ""  # refused with its reason by the validation, or here
    if host not in limits.redirect_hosts:
        raise InvalidMetadata(field, f"the host {host!r} is beyond the initial access token")


def _first_host(uris: Any) -> str:
    if isinstance(uris, list) and uris and isinstance(uris[0], str):
        try:
            return urlsplit(uris[0]).hostname or ""
        except ValueError:
            return ""  # the redirect URI is refused with its reason by the validation
    return ""


def check_limits(limits: Limits, fields: ClientFields) -> None:
    """RFC 7591 3: every scope, grant type and URI host the client would get is one the
    initial access token allows."""
    if limits.scopes:
        over = sorted(set(fields.allowed_scopes.split()) - limits.scopes)
        if over:
            raise InvalidMetadata("scope", f"{over[0]!r} is beyond the initial access token")
    if limits.grant_types:
        over = [grant for grant in fields.grant_types if grant not in limits.grant_types]
        if over:
            raise InvalidMetadata("grant_types", f"{over[0]!r} is beyond the initial access token")
    # Every host the provider redirects to, posts to, fetches from or shows on the consent
    # page (a logo or a policy link elsewhere is a phishing aid).
    for field, uris in (
        ("redirect_uris", fields.redirect_uris),
        ("post_logout_redirect_uris", fields.post_logout_redirect_uris),
        ("backchannel_logout_uri", (fields.backchannel_logout_uri,)),
        ("sector_identifier_uri", (fields.sector_identifier_uri,)),
        ("client_uri", (fields.client_uri,)),
        ("logo_uri", (fields.logo_uri,)),
        ("policy_uri", (fields.policy_uri,)),
        ("tos_uri", (fields.tos_uri,)),
    ):
        for uri in uris:
            _check_host(limits, field, uri)
