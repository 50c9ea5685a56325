"""The console's client form: what the administrator typed, and its RFC 7591 metadata.

The form keeps the entered text as is, so a page re-shown after an error shows what was
typed; :meth:`ClientForm.metadata` turns it into the dict :class:`ClientAdmin` validates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import registration
from ..claims import SUPPORTED_SCOPES
from ..records import Client, ClientFields
from ..registration import InvalidMetadata
from ..ui.translations import N_, Message

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
TTL_FIELDS = ("access_token_ttl", "id_token_ttl")
# A service error about one of these is shown next to the form field on the right.
FORM_FIELD_OF = {"token_endpoint_auth_method": "public"}
LABELS = {
    "client_name": N_("Name"),
    "description": N_("Description"),
    "client_uri": N_("Home page URL"),
    "logo_uri": N_("Logo URI"),
    "redirect_uris": N_("Redirect URIs"),
    "post_logout_redirect_uris": N_("Post-logout redirect URIs"),
    "backchannel_logout_uri": N_("Back-channel logout URI"),
    "backchannel_logout_session_required": N_("Send the session ID"),
    "scope": N_("Allowed scopes"),
    "grant_types": N_("Grants"),
    "subject_type": N_("Subject identifiers"),
    "sector_identifier_uri": N_("Sector identifier URI"),
    "public": N_("Public client"),
    "require_pkce": N_("Require PKCE"),
    "skip_consent": N_("Skip the consent page"),
    "require_mfa": N_("Require a second factor"),
    "access_token_format": N_("JWT access tokens"),
    "access_token_ttl": N_("Access token lifetime"),
    "id_token_ttl": N_("ID token lifetime"),
    "grace_seconds": N_("Grace period"),
}


def whole_number(name: str, text: str, message: str | Message) -> int | None:
    """``""`` -> None, digits -> int, anything else -> :class:`InvalidMetadata` on ``name``."""
    text = text.strip()
    if not text:
        return None
    if not _WHOLE_NUMBER.fullmatch(text):
        raise InvalidMetadata(name, message)
    return int(text)


@dataclass
class ClientForm:
    client_name: str = ""
    description: str = ""
    client_uri: str = ""
    logo_uri: str = ""
    redirect_uris: str = ""  # the textarea: one URI a line
    post_logout_redirect_uris: str = ""  # the same
    backchannel_logout_uri: str = ""
    backchannel_logout_session_required: bool = False
    scopes: frozenset[str] = frozenset(SUPPORTED_SCOPES)
    public: bool = False
    require_pkce: bool = False
    skip_consent: bool = False
    require_mfa: bool = False
    jwt_access_tokens: bool = False
    grant_types: frozenset[str] = frozenset({"authorization_code"})
    subject_type: str = "public"
    sector_identifier_uri: str = ""
    ttls: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TTL_FIELDS, ""))

    @classmethod
    def of(cls, client: Client) -> ClientForm:
        return cls(
            client_name=client.name,
            description=client.description,
            client_uri=client.client_uri,
            logo_uri=client.logo_uri,
            redirect_uris="\n".join(client.redirect_uris),
            post_logout_redirect_uris="\n".join(client.post_logout_redirect_uris),
            backchannel_logout_uri=client.backchannel_logout_uri,
            backchannel_logout_session_required=client.backchannel_logout_session_required,
            scopes=client.allowed_scopes,
            public=client.is_public,
            require_pkce=client.require_pkce or client.is_public,
            skip_consent=client.skip_consent,
            require_mfa=client.require_mfa,
            jwt_access_tokens=client.access_token_format == "jwt",  # noqa: S105
            grant_types=frozenset(client.grant_types),
            subject_type=client.subject_type,
            sector_identifier_uri=client.sector_identifier_uri,
            ttls={
                "access_token_ttl": _text_of(client.access_token_ttl),
                "id_token_ttl": _text_of(client.id_token_ttl),
            },
        )

    @classmethod
    def posted(cls, form: Mapping[str, Sequence[str]]) -> ClientForm:
        def text(name: str) -> str:
            values = form.get(name)
            return values[0] if values else ""

        return cls(
            client_name=text("client_name"),
            description=text("description").replace("\r\n", "\n"),  # a textarea's CR LF
            client_uri=text("client_uri"),
            logo_uri=text("logo_uri"),
            redirect_uris=text("redirect_uris"),
            post_logout_redirect_uris=text("post_logout_redirect_uris"),
            backchannel_logout_uri=text("backchannel_logout_uri").strip(),
            backchannel_logout_session_required=bool(text("backchannel_logout_session_required")),
            scopes=frozenset(form.get("scope", ())),
            public=bool(text("public")),
            require_pkce=bool(text("require_pkce")),
            skip_consent=bool(text("skip_consent")),
            require_mfa=bool(text("require_mfa")),
            jwt_access_tokens=text("access_token_format") == "jwt",
            grant_types=frozenset(form.get("grant_type", ())) | {"authorization_code"},
            subject_type=text("subject_type") or "public",
            sector_identifier_uri=text("sector_identifier_uri").strip(),
            ttls={name: text(name) for name in TTL_FIELDS},
        )

    def uri_list(self, text: str | None = None) -> list[str]:
        lines = (self.redirect_uris if text is None else text).splitlines()
        return [line.strip() for line in lines if line.strip()]

    def validate(
        self, current: Client | None = None
    ) -> tuple[dict[str, Any], dict[str, str | Message]]:
        """RFC 7591 metadata (with ``current``: only what differs) and every field's error.

        Each field goes through :func:`registration.client_fields` on its own, so the page
        can show all errors at once; the service validates the whole again when saving.
        """
        errors: dict[str, str | Message] = {}
        metadata: dict[str, Any] = {
            "client_name": self.client_name,
            "description": self.description,
            "client_uri": self.client_uri,
            "logo_uri": self.logo_uri,
            "redirect_uris": self.uri_list(),
            "post_logout_redirect_uris": self.uri_list(self.post_logout_redirect_uris),
            "backchannel_logout_uri": self.backchannel_logout_uri,
            "backchannel_logout_session_required": self.backchannel_logout_session_required,
            "scope": " ".join(s for s in SUPPORTED_SCOPES if s in self.scopes),
            "token_endpoint_auth_method": "none" if self.public else "client_secret_basic",
            "require_pkce": self.require_pkce or self.public,
            "skip_consent": self.skip_consent,
            "require_mfa": self.require_mfa,
            "access_token_format": "jwt" if self.jwt_access_tokens else "opaque",
            "grant_types": [g for g in registration.GRANT_TYPES if g in self.grant_types],
            "subject_type": self.subject_type,
            "sector_identifier_uri": self.sector_identifier_uri,
        }
        for name, text in self.ttls.items():
            try:
                metadata[name] = whole_number(name, text, TTL_MESSAGE)
            except InvalidMetadata as error:
                errors.update(errors_of(error))
        if current is not None:
            metadata = _changes(metadata, registration.client_metadata(current))
        for key, value in metadata.items():
            try:
                registration.client_fields({key: value}, _PLACEHOLDER)
            except InvalidMetadata as error:
                errors.update(errors_of(error))
        rank = {name: index for index, name in enumerate(LABELS)}  # the page's order
        return metadata, dict(sorted(errors.items(), key=lambda item: rank.get(item[0], 99)))


TTL_MESSAGE = N_("must be a whole number of seconds, or empty for the default")
_PLACEHOLDER = ClientFields(name="placeholder", redirect_uris=("https://placeholder.invalid/",))


def _changes(metadata: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    def same(key: str, value: Any) -> bool:
        if key == "scope":
            return set(value.split()) == set(current[key].split())
        if isinstance(value, str):
            return bool(value.strip() == current[key])
        return bool(value == current[key])

    return {key: value for key, value in metadata.items() if not same(key, value)}


def _text_of(value: int | None) -> str:
    return "" if value is None else str(value)


def errors_of(error: InvalidMetadata) -> dict[str, str | Message]:
    """The error keyed by the form field it belongs to, as the page translates it."""
    return {FORM_FIELD_OF.get(error.field, error.field): error.page_message}
