"""The ``sub`` a client sees for a user: OpenID Connect Core 1.0 section 8.

A ``public`` client (the default) gets the user's own subject identifier.  A ``pairwise``
client (section 8.1) gets a value of its own *sector*: the host name stored with the client
(:attr:`~oidc_core.records.Client.sector_identifier`, set at registration from the
``sector_identifier_uri`` or the redirect URIs, :mod:`oidc_core.sectors`).  The value is
HMAC-SHA-256, keyed by the provider's pairwise salt (one per database, so every host of an
issuer agrees), over the sector and the user's subject, each prefixed by its length (no two
pairs give the same message), as base64url without padding.  Clients of one sector see the
same ``sub``; clients of different sectors cannot correlate their users; nothing but the
salt, the sector and the subject enters it, so a secret reset or a key rotation never
changes it.

Every ``sub`` that leaves the provider for a client goes through :func:`subject_for` (ID
tokens, UserInfo, introspection, JWT access tokens, logout tokens), and every ``sub`` a
client sends back (``id_token_hint``) is compared with its result.  The host's own API
(:mod:`oidc_core.bearer`) is the provider's side and is given the user's own subject.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .storage import Storage

from .registration import SUBJECT_TYPES  # OIDC Discovery ``subject_types_supported``

PUBLIC, PAIRWISE = SUBJECT_TYPES


class SubjectPolicy(Protocol):
    """What decides a client's ``sub``: a :class:`~oidc_core.records.Client`, or a
    token's record carrying its client's values."""

    @property
    def subject_type(self) -> str: ...

    @property
    def sector_identifier(self) -> str: ...


def _length_prefixed(value: str) -> bytes:
    data = value.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def pairwise_subject(salt: str, sector: str, subject: str) -> str:
    """Section 8.1: the pairwise identifier of ``subject`` for ``sector``."""
    message = _length_prefixed(sector) + _length_prefixed(subject)
    mac = hmac.new(salt.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def subject_for(storage: Storage, client: SubjectPolicy, subject: str) -> str:
    """The ``sub`` that ``client`` sees for the user whose subject is ``subject``."""
    if client.subject_type != PAIRWISE:
        return subject
    if not client.sector_identifier:  # never stored so (sectors.py): refuse to leak
        raise ValueError("a pairwise client without a sector identifier")
    salt = storage.provider_secrets.pairwise_salt()
    return pairwise_subject(salt, client.sector_identifier, subject)
