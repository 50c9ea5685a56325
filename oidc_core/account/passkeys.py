"""Passkeys and security keys: the account's list, adding one, renaming and removing.

Adding one takes two requests from the page's script: ``/account/passkeys/options`` (the
creation options, JSON; the challenge kept for this browser session) and, once the
browser made the credential, the form posted to ``/account/passkeys/add`` with its name
and the browser's answer (:mod:`oidc_core.mfa.passkeys` verifies it).  Adding and removing
one need the password or a code (:mod:`.proof`): a passkey outlives a password reset, so a
session left open must not be enough to add one, or to take the user's away.  Every POST
carries the account pages' CSRF token (checked by :mod:`.dispatch`).  With an issuer on an IP
address the page says passkeys are unavailable; with host login the host application's
users read that it manages their sign-in, and adding one is refused (403).
"""

from __future__ import annotations

import logging
from typing import Any

from webob import Response

from .. import responses
from ..errors import PageError
from ..mfa import passkeys, policy
from ..text import has_control_characters
from ..ui.translations import N_, Message
from . import proof, security
from .request import AccountRequest

log = logging.getLogger(__name__)

MAX_NAME = 64  # characters
NOTICES = {
    "added": N_("The passkey was added."),
    "renamed": N_("The passkey was renamed."),
    "removed": N_("The passkey was removed. Remove it from your device or password manager too."),
}
UNAVAILABLE = N_("Passkeys are not available on this site.")
NO_SUCH_PASSKEY = N_("This passkey does not exist or was removed.")
NOT_CREATED = N_("Your browser did not create a passkey, or it could not be accepted. Try again.")


def passkey_list(account: AccountRequest) -> Response:
    notice = account.notice(NOTICES)
    return _page(account, notice=notice)


def options(account: AccountRequest) -> Response:
    """POST (from the page's script): the creation options for a new passkey, JSON."""
    _available(account)
    passwordless = account.field("passwordless") == "on"
    body = passkeys.registration_options(
        account.op, account.request, account.session, account.user, passwordless
    )
    return responses.json_body_response(body.encode("utf-8"))


def add(account: AccountRequest) -> Response:
    """POST with the password or a code: verify the browser's new credential and keep it
    under the name given."""
    _available(account)
    name = account.field("name").strip()
    error = _name_error(name)
    if error:  # before the proof, so that a code is not spent on a form refused anyway
        return _page(account, status=400, name_error=error, name=name)
    unproved = proof.refusal(account, _page, name=name, proof_for="add")
    if unproved is not None:
        return unproved
    try:
        passkeys.register(
            account.op,
            account.request,
            account.session,
            account.user,
            account.field("credential"),
            name,
        )
    except passkeys.PasskeyRefused as refused:
        log.info("passkey registration refused for user %d: %s", account.user.id, refused)
        return _page(account, status=400, error=NOT_CREATED, name=name)
    return account.redirect("/passkeys?notice=added")


def rename(account: AccountRequest, passkey_id: str) -> Response:
    name = account.field("name").strip()
    error = _name_error(name)
    if error:
        return _page(account, status=400, error=error)
    if not account.op.storage.passkeys.rename(account.user.id, int(passkey_id), name):
        raise PageError(NO_SUCH_PASSKEY, status=404)
    return account.redirect("/passkeys?notice=renamed")


def remove(account: AccountRequest, passkey_id: str) -> Response:
    """POST with the password or a code."""
    unproved = proof.refusal(account, _page, proof_for=int(passkey_id))
    if unproved is not None:
        return unproved
    if not account.op.storage.passkeys.remove(account.user.id, int(passkey_id)):
        raise PageError(NO_SUCH_PASSKEY, status=404)
    return account.redirect("/passkeys?notice=removed")


def _available(account: AccountRequest) -> None:
    if not policy.enrols_here(account.op):  # a host's users: the host signs them in
        raise PageError(security.HOST_MANAGED, status=403)
    if passkeys.party(account.op) is None:
        raise PageError(UNAVAILABLE, status=404)


def _name_error(name: str) -> str | Message:
    if not name:
        return N_("Give the passkey a name, such as the device it is on.")
    if len(name) > MAX_NAME:
        return Message(N_("Use at most %(count)s characters."), {"count": MAX_NAME})
    if has_control_characters(name):
        return N_("Remove the control characters.")
    return ""


def _page(account: AccountRequest, status: int = 200, **extra: Any) -> Response:
    available = passkeys.party(account.op) is not None and policy.enrols_here(account.op)
    context: dict[str, Any] = {
        "section": "passkeys",
        "available": available,
        "host_managed": not policy.enrols_here(account.op),
        "passkeys": account.op.storage.passkeys.of_user(account.user.id),
        "max_name": MAX_NAME,
        "notice": "",
        "error": "",
        "name_error": "",
        "name": "",
        "proof_error": "",
        "proof_for": None,
        "has_password": proof.has_password(account),
        **extra,
    }
    return account.page("account_passkeys.html", status, scripts=available, **context)
