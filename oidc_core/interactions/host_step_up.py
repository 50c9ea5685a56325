"""Stepping up through the host application (host login, ``docs/hosting.md``).

When the host's signed-in person does not meet what the authorization request asks (a
context class their sign-in did not reach; ``prompt=login``, ``select_account`` or a
``max_age`` their sign-in is older than), the login page sends the browser to the host's
login page (``host_login_url``) with ``next`` and the ask: ``prompt=login``, ``max_age``,
``acr_values``.  The host's answer is checked again when the browser comes back (marked
in ``next``, so never a second round trip: no loop):

* a class still not reached: the request goes on with the class reached (voluntary) or
  fails with ``unmet_authentication_requirements`` (essential; ``complete.issue_code``);
* a sign-in still without the second factor the MFA policy requires (the client's or the
  provider's ``require_mfa``, :mod:`oidc_core.mfa.policy`): it fails with
  ``unmet_authentication_requirements``, and so it does at once when no host login page
  is configured to ask;
* a sign-in still not fresh enough, by the ``auth_time`` the host reports: it fails with
  ``unmet_authentication_requirements``.  A host that reports no ``auth_time`` is trusted
  to have signed the person in again when asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .. import authn
from ..accounts import Account
from . import acr, pending

if TYPE_CHECKING:
    from ..context import Context

ASKED = "host_asked"  # in ``next``: the host was asked already


@dataclass(frozen=True)
class Ask:
    """What the host must do for this request."""

    acr: str | None  # the context class to reach, if the host's sign-in did not
    fresh: bool  # sign the person in again
    max_age: int | None  # the request's max_age (seconds), if any
    anew: bool = False  # prompt=login, select_account, max_age=0: since the request came


def ask_of(
    interaction: pending.Interaction, account: Account, short_of_mfa: bool = False
) -> Ask | None:
    """What the host's sign-in of ``account`` lacks for the pending request; None if
    nothing.  ``short_of_mfa``: the MFA policy requires a second factor the host's sign-in
    lacks (:func:`oidc_core.mfa.policy.short_of_policy`): the host is asked for the class
    ``urn:oidc-core:acr:mfa`` (or the stronger one the request requires)."""
    params = interaction.pending.params
    required = acr.required_acr(params)
    if short_of_mfa and required in (None, authn.ACR_SINGLE_FACTOR):
        required = authn.ACR_MFA
    short = None
    if required is not None and not authn.satisfies(authn.normalized(account.amr), required):
        short = required
    max_age = _max_age(dict(params).get("max_age", ""))
    auth_time = account.auth_time
    if auth_time is None:
        auth_time = interaction.session.auth_time
    anew = bool(interaction.prompt & {"login", "select_account"}) or max_age == 0
    stale = max_age is not None and (auth_time is None or time.time() - auth_time > max_age)
    if short is None and not (anew or stale):
        return None
    return Ask(short, anew or stale, max_age, anew)


def _max_age(value: str) -> int | None:
    """The parked request's ``max_age`` (validated when it was parked)."""
    return int(value) if value.isdigit() else None


def answered(op: Context, interaction: pending.Interaction, ask: Ask, account: Account) -> bool:
    """Whether the host's sign-in is as fresh as ``ask`` wants, by the ``auth_time`` it
    reports (none reported: trusted).  ``prompt=login`` and ``max_age=0`` want a sign-in
    made since the request was parked."""
    if not ask.fresh or account.auth_time is None:
        return True
    if ask.max_age and time.time() - account.auth_time > ask.max_age:
        return False
    parked_at = interaction.pending.expires_at - op.settings.interaction_ttl
    return not ask.anew or account.auth_time >= parked_at


def host_url(op: Context, interaction: pending.Interaction, ask: Ask) -> str:
    """The host's login page (``host_login_url``, a path taken on the issuer's host),
    with ``next`` back to the login page and the ask."""
    back = {"interaction": interaction.pending.handle, ASKED: "1"}
    query = {"next": op.url("/login") + "?" + urlencode(back)}
    if ask.fresh:
        query["prompt"] = "login"
    if ask.max_age is not None:
        query["max_age"] = str(ask.max_age)
    if ask.acr is not None:
        query["acr_values"] = ask.acr
    url = op.site_url(op.settings.host_login_url)
    return url + ("&" if "?" in url else "?") + urlencode(query)
