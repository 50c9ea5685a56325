"""``id_token_hint``: OpenID Connect Core 1.0 section 3.1.2.1.

The hint must be an ID token this provider issued to the requesting client: signed by one
of our published keys with that key's own algorithm (``jose.verify_jwt``), our ``iss``,
the client in ``aud``.  An expired token is still a good hint (it identifies a user, it
grants nothing), so ``exp`` is not checked.  Anything else is ``invalid_request``.
The end-session endpoint uses :func:`hint_claims` the same way (RP-Initiated Logout 1.0
section 2: the client is then named by ``aud``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oauthlib.oauth2.rfc6749 import errors

from .. import jose

if TYPE_CHECKING:
    from ..context import Context

INVALID = "id_token_hint is not an ID token this provider issued to this client"


def hinted_subject(op: Context, hint: str | None, client_id: str) -> str | None:
    """The ``sub`` the hint names, None without a hint (an empty value counts as none):
    as the client sees it (pairwise for a pairwise client, :mod:`oidc_core.subjects`)."""
    if not hint:
        return None
    claims = hint_claims(op, hint)
    if claims is None or client_id not in claims[1]:
        raise errors.InvalidRequestError(description=INVALID)
    return claims[0]


def hint_claims(op: Context, hint: str) -> tuple[str, list[str]] | None:
    """``(sub, aud as a list)`` of an ID token we issued (expired allowed), else None."""
    try:
        claims = op.keys.verify(hint)
    except jose.InvalidToken:
        return None
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    subject = claims.get("sub")
    if (
        claims.get("iss") != op.settings.issuer
        or not isinstance(audiences, list)
        or not audiences
        or not all(isinstance(aud, str) for aud in audiences)
        or not isinstance(subject, str)
        or not subject
    ):
        return None
    return subject, audiences
