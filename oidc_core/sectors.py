"""The sector of a pairwise client: OpenID Connect Core 1.0 section 8.1 and OpenID Connect
Dynamic Client Registration 1.0 section 5.

A pairwise client's ``sub`` (:mod:`oidc_core.subjects`) is computed for its *sector
identifier*, a host name stored with the client when its metadata is written:

- with a ``sector_identifier_uri``, its host.  The document there is fetched (once, when the
  URI is set or changed, and again when the client's redirect URIs change) and must be a
  JSON array of strings holding every redirect URI of the client;
- without one, the host of the redirect URIs, which must then all be on one host.

Once stored, the sector only changes through an explicit ``sector_identifier_uri``: editing
the redirect URIs within the sector, resetting the secret or rotating the keys keep every
``sub``; redirect URIs leaving the sector are refused unless a ``sector_identifier_uri``
lists them (its host becomes the sector, and the client's users then get new ``sub``
values, as OIDC Core 8.1 implies).  Switching a client to ``public`` keeps the stored
sector, so switching back restores the same ``sub`` values.

The document is fetched with :func:`oidc_core.outbound.get` and the back-channel rules:
``https`` only, no redirect followed, at most :data:`MAX_DOCUMENT` bytes within
:data:`TIMEOUT` seconds, public addresses only unless
``backchannel_allow_private_addresses`` allows others, through ``backchannel_proxy`` if
set.  Every failure is an :class:`~oidc_core.registration.InvalidMetadata` for
``sector_identifier_uri`` (``invalid_client_metadata``) whose message tells the client
what to fix and nothing of the provider's network; the details go to the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import outbound
from .registration import InvalidMetadata
from .subjects import PAIRWISE
from .ui.translations import N_, Message

if TYPE_CHECKING:
    from .records import ClientFields
    from .settings import Settings

log = logging.getLogger(__name__)

FIELD = "sector_identifier_uri"
MAX_DOCUMENT = 64 * 1024  # bytes
TIMEOUT = 5.0  # seconds for the whole answer

Fetch = Callable[[str], list[str]]


@dataclass(frozen=True)
class SectorFetcher:
    """Fetches ``sector_identifier_uri`` documents with the provider's outbound rules."""

    allow_private: bool = False
    proxy: str = ""
    timeout: float = TIMEOUT

    @classmethod
    def of(cls, settings: Settings) -> SectorFetcher:
        return cls(
            settings.backchannel_private_addresses_allowed, settings.backchannel_proxy, TIMEOUT
        )

    def __call__(self, uri: str) -> list[str]:
        """The URIs the document at ``uri`` lists; :class:`InvalidMetadata` otherwise."""
        try:
            status, body = outbound.get(
                uri,
                timeout=self.timeout,
                allow_private=self.allow_private,
                max_bytes=MAX_DOCUMENT,
                proxy=self.proxy,
            )
        except outbound.RefusedAddress as exc:
            log.warning("sector_identifier_uri %s refused: %s", uri, exc)
            raise InvalidMetadata(FIELD, N_("its host is not on a public address")) from None
        except outbound.TooLarge as exc:
            log.info("sector_identifier_uri %s: %s", uri, exc)
            raise InvalidMetadata(
                FIELD, Message(N_("the document is over %(count)s bytes"), {"count": MAX_DOCUMENT})
            ) from None
        except outbound.TooSlow as exc:
            log.info("sector_identifier_uri %s: %s", uri, exc)
            raise InvalidMetadata(
                FIELD,
                Message(
                    N_("the document did not arrive within %(seconds)s seconds"),
                    {"seconds": f"{self.timeout:g}"},
                ),
            ) from None
        except outbound.OutboundError as exc:
            log.info("sector_identifier_uri %s: %s", uri, exc)
            raise InvalidMetadata(FIELD, N_("the document could not be fetched")) from None
        if 300 <= status < 400:
            raise InvalidMetadata(
                FIELD,
                Message(N_("answered %(status)s: redirects are not followed"), {"status": status}),
            )
        if status != 200:
            raise InvalidMetadata(
                FIELD,
                Message(N_("answered %(status)s, not 200 with the document"), {"status": status}),
            )
        return _listed(body)


def _listed(body: bytes) -> list[str]:
    """Section 5: the document is a JSON array of redirect URIs."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, or arrays nested thousands deep
        raise InvalidMetadata(FIELD, N_("the document is not JSON")) from None
    if not isinstance(document, list) or not all(isinstance(uri, str) for uri in document):
        raise InvalidMetadata(FIELD, N_("the document must be a JSON array of strings"))
    return document


def _host(uri: str) -> str:
    return (urlsplit(uri).hostname or "").lower()


def resolve(fields: ClientFields, current: ClientFields | None, fetch: Fetch) -> ClientFields:
    """``fields`` with the sector identifier they imply, given the ``current`` ones (None:
    a new client); raises :class:`InvalidMetadata` (nothing to store) when there is none."""
    uri = fields.sector_identifier_uri
    stored = current.sector_identifier if current is not None else ""
    if uri:
        unchanged = (
            current is not None
            and uri == current.sector_identifier_uri
            and fields.redirect_uris == current.redirect_uris
        )
        if not unchanged:
            listed = fetch(uri)
            missing = [r for r in fields.redirect_uris if r not in listed]
            if missing:
                raise InvalidMetadata(
                    FIELD,
                    Message(
                        N_("the document does not list the redirect URI %(uri)s"),
                        {"uri": repr(missing[0])},
                    ),
                )
        return replace(fields, sector_identifier=_host(uri))
    if fields.subject_type != PAIRWISE:
        return replace(fields, sector_identifier=stored)
    hosts = sorted({_host(redirect) for redirect in fields.redirect_uris})
    if stored:
        if hosts != [stored]:
            raise InvalidMetadata(
                FIELD,
                Message(
                    N_(
                        "the redirect URIs leave the sector %(sector)s: give a "
                        "sector_identifier_uri listing them (its host becomes the sector, "
                        "and every sub changes)"
                    ),
                    {"sector": stored},
                ),
            )
        return fields
    if len(hosts) != 1:
        raise InvalidMetadata(
            FIELD, N_("is required for a pairwise client whose redirect URIs are on several hosts")
        )
    return replace(fields, sector_identifier=hosts[0])
