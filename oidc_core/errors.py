"""Errors as values with a wire format.

A :class:`ProviderError` knows its OAuth 2.0 / OpenID Connect error code, its HTTP status,
a public ``description`` (sent to the client) separate from a log-only ``detail``, and
whether it may be redirected to the client (RFC 6749 section 4.1.2.1: only once
``client_id`` and ``redirect_uri`` have been validated).  :mod:`oidc_core.responses`
turns it into a response; nothing else decides status codes.
"""

from __future__ import annotations

import re

_UNSAFE_DESCRIPTION = re.compile(r"[^\x20-\x21\x23-\x5B\x5D-\x7E]")


def clean_description(text: str) -> str:
    """RFC 6749 section 5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only."""
    return _UNSAFE_DESCRIPTION.sub(" ", text)[:300]


class ProviderError(Exception):
    """An error with a code from the OAuth/OIDC registries and an HTTP status."""

    error = "server_error"
    status = 400

    def __init__(
        self,
        description: str = "",
        *,
        error: str | None = None,
        status: int | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(description or detail or self.error)
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status
        self.description = clean_description(description)
        self.detail = detail


class InvalidRequest(ProviderError):
    """RFC 6749 section 5.2 ``invalid_request``."""

    error = "invalid_request"


class InvalidClient(ProviderError):
    """RFC 6749 section 5.2 ``invalid_client``: 401 with ``WWW-Authenticate`` on Basic."""

    error = "invalid_client"
    status = 401


class InvalidToken(ProviderError, ValueError):
    """RFC 6750 section 3.1 ``invalid_token``; also what :func:`oidc_core.jose.verify_jwt`
    raises for a JWS that is not well formed or not signed by one of our keys (a
    ``ValueError``, as a bad value it was handed)."""

    error = "invalid_token"
    status = 401


class PageError(ProviderError):
    """An error that must be shown to the user and never redirected (bad client or URI)."""

    error = "invalid_request"


class RequestTooLarge(ProviderError):
    """The request exceeds a configured size limit."""

    error = "invalid_request"
    status = 413


class StorageUnavailable(ProviderError):
    """The database failed; answered 503 with ``Retry-After``, never a traceback."""

    error = "temporarily_unavailable"
    status = 503
