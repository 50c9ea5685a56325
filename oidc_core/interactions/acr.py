"""What an authorization request asks of the sign-in: the authentication context class.

OpenID Connect Core 1.0 section 3.1.2.1 (``acr_values``: voluntary, in order of
preference) and 5.5.1.1 (an ``acr`` member of the ``claims`` parameter's ``id_token``,
with ``value`` or ``values``; essential or not).  When both are sent the ``claims``
member decides: it is the more precise of the two.

* :func:`required_acr`: the weakest of the classes asked that this provider offers (any
  of them would do); a live session that does not reach it signs in again (step-up).
  Classes this provider does not offer are ignored.
* :func:`stated_acr`: the class the ID token states: the strongest class asked that the
  sign-in satisfied, else the strongest it reached (OIDC Core 2: "the Authentication
  Context Class that the authentication performed satisfied").
* :func:`unmet`: an essential ``acr`` the sign-in did not satisfy: the request fails with
  ``unmet_authentication_requirements`` (OpenID Connect Core Unmet Authentication
  Requirements 1.0; OIDC Core 5.5.1.1: "a failed authentication attempt").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from oauthlib.oauth2.rfc6749 import errors

from .. import authn

UNMET = "unmet_authentication_requirements"


class UnmetAuthenticationRequirements(errors.OAuth2Error):  # type: ignore[misc]
    """OpenID Connect Core Unmet Authentication Requirements 1.0 section 1."""

    error = UNMET
    description = "the sign-in did not reach the authentication context class required"


@dataclass(frozen=True)
class AcrRequest:
    """The classes an authorization request names, in its order, and whether they are
    essential (only an essential ``acr`` claim is)."""

    values: tuple[str, ...] = ()
    essential: bool = False

    @property
    def offered(self) -> tuple[str, ...]:
        """The values asked that this provider offers, weakest first."""
        return tuple(acr for acr in authn.ACR_VALUES if acr in self.values)


def requested(params: Iterable[tuple[str, str]]) -> AcrRequest:
    """The ``acr`` ask of the authorization request ``params``."""
    given = dict(params)
    member = _acr_member(given.get("claims"))
    if member is not None:
        values = member.get("values")
        if not isinstance(values, list):
            values = [member["value"]] if "value" in member else []
        names = tuple(value for value in values if isinstance(value, str))
        return AcrRequest(names, member.get("essential") is True)
    return AcrRequest(tuple(given.get("acr_values", "").split()))


def _acr_member(claims: str | None) -> dict[str, Any] | None:
    """The ``claims`` parameter's ``id_token.acr`` object, if it has one.  (A malformed
    ``claims`` was refused when the request was validated.)"""
    try:
        parsed = json.loads(claims) if claims else None
    except (ValueError, RecursionError):
        return None
    id_token = parsed.get("id_token") if isinstance(parsed, dict) else None
    member = id_token.get("acr") if isinstance(id_token, dict) else None
    return member if isinstance(member, dict) else None


def required_acr(params: Sequence[tuple[str, str]]) -> str | None:
    """The context class a sign-in must reach for this request (the weakest offered class
    asked: any of them would do); None when it asks for none this provider offers."""
    offered = requested(params).offered
    return offered[0] if offered else None


def stated_acr(params: Sequence[tuple[str, str]], amr: Iterable[str]) -> str:
    """The ``acr`` an ID token states for a sign-in made with ``amr``."""
    methods = tuple(amr)
    met = [acr for acr in requested(params).offered if authn.satisfies(methods, acr)]
    return met[-1] if met else authn.acr_of(methods)


def impossible(params: Sequence[tuple[str, str]]) -> bool:
    """An essential ``acr`` claim naming only classes this provider does not offer: no
    sign-in can meet it, so the request fails at once."""
    asked = requested(params)
    return asked.essential and bool(asked.values) and not asked.offered


def unmet(params: Sequence[tuple[str, str]], amr: Iterable[str]) -> bool:
    """An essential ``acr`` claim with values, none of them satisfied by ``amr`` (an
    essential class this provider does not offer is never met)."""
    asked = requested(params)
    if not asked.essential or not asked.values:
        return False
    methods = tuple(amr)
    return not any(authn.satisfies(methods, acr) for acr in asked.values)
