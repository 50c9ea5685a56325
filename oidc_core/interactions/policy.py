"""What an authorization request needs next: login, consent, or a code.

OpenID Connect Core 1.0 section 3.1.2.1 (``prompt``, ``max_age``) and 3.1.2.4.  Each rule
is a small function; :func:`next_step` applies them in order.  ``prompt=none`` turns a
needed interaction into the error the spec names instead of a page.

``prompt=select_account`` shows the login page: a browser holds one account here, and
signing in is how the user picks another.
An ``id_token_hint`` naming someone other than the signed-in user asks for a login
(``login_required`` with ``prompt=none``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid.connect.core import exceptions

LOGIN, CONSENT, ISSUE = "login", "consent", "issue"


@dataclass(frozen=True)
class Situation:
    logged_in: bool
    auth_time: int | None
    consented: bool
    prompt: frozenset[str]
    max_age: int | None
    other_user_hinted: bool = False


def parse_max_age(value: str | None) -> int | None:
    """OIDC Core 3.1.2.1: max_age is a non-negative integer number of seconds.

    An empty value is an omitted parameter (RFC 6749 section 3.1)."""
    if not value:
        return None
    if not value.isdigit() or len(value) > 10:
        raise errors.InvalidRequestError(description="max_age must be a non-negative integer")
    return int(value)


def login_needed(situation: Situation) -> bool:
    """No session, ``prompt=login`` or ``select_account``, an authentication older than
    ``max_age``, or an ``id_token_hint`` for another user."""
    if not situation.logged_in or situation.other_user_hinted:
        return True
    if situation.prompt & {"login", "select_account"}:
        return True
    if situation.max_age is not None:
        if situation.auth_time is None:
            return True
        return time.time() - situation.auth_time > situation.max_age
    return False


def consent_needed(situation: Situation) -> bool:
    """No remembered consent covering the scopes, or ``prompt=consent``."""
    return not situation.consented or "consent" in situation.prompt


def next_step(situation: Situation) -> str:
    silent = "none" in situation.prompt
    if login_needed(situation):
        if silent:
            raise exceptions.LoginRequired()
        return LOGIN
    if consent_needed(situation):
        if silent:
            raise exceptions.ConsentRequired()
        return CONSENT
    return ISSUE
