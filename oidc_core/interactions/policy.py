"""What an authorization request needs next: login, consent, or a code.

OpenID Connect Core 1.0 section 3.1.2.1 (``prompt``, ``max_age``) and 3.1.2.4.  Each rule
is a small function; :func:`next_step` applies them in order.  ``prompt=none`` turns a
needed interaction into the error the spec names instead of a page.

``prompt=select_account`` shows the login page: a browser holds one account here, and
signing in is how the user picks another.
An ``id_token_hint`` naming someone other than the signed-in user asks for a login
(``login_required`` with ``prompt=none``; if another account then signs in, the request
ends with ``login_required`` too: :func:`.complete.hint_refusal`), and so does a session
whose sign-in does not reach the context class the request requires (``acr_values``, an
``acr`` claim: step-up, :mod:`.acr`), or lacks the second factor the MFA policy requires
of this user and client (``require_mfa``, the user's own factor: a session made before
either).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid.connect.core import exceptions

from .. import authn

LOGIN, CONSENT, ISSUE = "login", "consent", "issue"


@dataclass(frozen=True)
class Situation:
    logged_in: bool
    auth_time: int | None
    consented: bool
    prompt: frozenset[str]
    max_age: int | None
    other_user_hinted: bool = False
    amr: tuple[str, ...] = ()  # how the session's user signed in (RFC 8176)
    required_acr: str | None = None  # the class the request requires (:mod:`.acr`)
    short_of_mfa: bool = False  # the session lacks the second factor the policy requires


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
    ``max_age``, an ``id_token_hint`` for another user, a step-up, or a session without
    the second factor the MFA policy requires (:func:`oidc_core.mfa.policy.short_of_policy`)."""
    if not situation.logged_in or situation.other_user_hinted or situation.short_of_mfa:
        return True
    if situation.prompt & {"login", "select_account"}:
        return True
    return too_old(situation) or step_up_needed(situation)


def too_old(situation: Situation) -> bool:
    """OIDC Core 3.1.2.1: an authentication longer ago than ``max_age`` seconds;
    ``max_age=0`` always asks for a new one (as ``prompt=login``)."""
    if situation.max_age is None:
        return False
    if situation.auth_time is None or situation.max_age == 0:
        return True
    return time.time() - situation.auth_time > situation.max_age


def step_up_needed(situation: Situation) -> bool:
    """OIDC Core 3.1.2.1 and 5.5.1.1: the session's sign-in does not reach the context
    class the request requires."""
    required = situation.required_acr
    return required is not None and not authn.satisfies(situation.amr, required)


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
