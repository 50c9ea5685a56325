"""Profile: the claims apps may receive, editing them, and changing the password.

Only built-in accounts (``oidc_user``) are edited here, and only the claims named in
``settings.profile_editable_claims``; a host's own account source keeps its data and its
passwords.  A password change (when ``password_change_revokes_refresh_tokens``, the
default) revokes every token issued to the user and ends their other sessions.
"""

from __future__ import annotations

import re
from typing import Any

from webob import Response

from ..claims import EDITABLE_CLAIMS
from ..errors import PageError
from ..text import has_control_characters
from ..ui.translations import N_, Message
from .request import AccountRequest
from .sessions import end_every_session

# The claims shown, in order, with their labels.
CLAIMS = (
    ("name", N_("Full name")),
    ("given_name", N_("Given name")),
    ("family_name", N_("Family name")),
    ("preferred_username", N_("Username")),
    ("email", N_("Email")),
    ("locale", N_("Language")),
)
MAX_LENGTHS = {"locale": 35}
MAX_LENGTH = 255  # characters, the columns' length
MIN_PASSWORD = 8  # characters

# RFC 5646 section 2.1 ``langtag`` (no grandfathered tags), e.g. en, en-GB, zh-Hant-TW.
BCP47 = re.compile(
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language, extlang
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[A-Za-z0-9]{1,8})+)?"  # private use
)

SAVED = N_("Your profile was saved.")
NOTICES = {
    "password-changed": N_("Your password was changed."),
    "password-changed-everywhere": N_(
        "Your password was changed. Apps must ask you to sign in again, "
        "and your other sessions were signed out."
    ),
}
HOST_OWNED = N_("Your account is managed by the site you signed in with; change it there.")


def profile(account: AccountRequest) -> Response:
    if account.request.method == "GET":
        try:
            notice = NOTICES.get(account.request.GET.get("notice", ""), "")
        except UnicodeDecodeError:
            notice = ""
        return _page(account, notice=notice)
    if not account.op.accounts.builtin:
        raise PageError(HOST_OWNED, status=403)
    editable = _editable(account)
    values = {name: account.field(name).strip() for name in editable if name in account.form}
    errors = {name: error for name, value in values.items() if (error := _check(name, value))}
    if errors:
        return _page(account, values=values, errors=errors, status=400)
    account.op.storage.users.update_profile(account.user.id, values)
    return _page(account, notice=SAVED)


def change_password(account: AccountRequest) -> Response:
    """POST: check the current password, store the new one's hash, and (by policy) end
    every token and every other session of the user, in one transaction."""
    op, user = account.op, account.user
    if not op.accounts.builtin or not user.email:
        raise PageError(HOST_OWNED, status=403)
    current, new = account.field("current_password"), account.field("new_password")
    errors = _password_errors(account, new, account.field("new_password_again"))
    if not errors and not _is_password_of(account, current):
        errors = {"current_password": N_("This is not your current password.")}
    if errors:
        return _page(account, password_errors=errors, status=400)
    new_hash = op.passwords.hash(new)
    revoke = op.settings.password_change_revokes_refresh_tokens
    queued = False
    # One transaction: a failure anywhere leaves the old password with everything it let in.
    with op.storage.transaction():
        op.storage.users.set_password_hash(user.id, new_hash)
        if revoke:
            op.storage.account.revoke(user.id, None)
            queued = end_every_session(op, user.id, keep=account.session.id)
        key = op.browser.log_in(
            account.session, user.id, account.request, op.client_address(account.request)
        )
    if queued:
        op.backchannel.wake()
    notice = "password-changed-everywhere" if revoke else "password-changed"
    response = account.redirect("/profile?notice=" + notice)
    op.browser.set_cookie(response, key)
    return response


def _is_password_of(account: AccountRequest, password: str) -> bool:
    email = account.user.email or ""
    # Counted like any sign-in; while locked, Throttled becomes a 429 page.
    address = account.op.client_address(account.request)
    checked = account.op.accounts.authenticate(email, password, address=address)
    return checked is not None and checked.id == account.user.id


def _password_errors(account: AccountRequest, new: str, again: str) -> dict[str, str | Message]:
    limit = account.op.settings.password_max_length
    if len(new) < MIN_PASSWORD:
        return {
            "new_password": Message(
                N_("Use at least %(count)s characters."), {"count": MIN_PASSWORD}
            )
        }
    if len(new.encode("utf-8", "surrogatepass")) > limit:
        return {"new_password": Message(N_("Use at most %(count)s bytes."), {"count": limit})}
    if new != again:
        return {"new_password_again": N_("The two new passwords are not the same.")}
    return {}


def _editable(account: AccountRequest) -> tuple[str, ...]:
    if not account.op.accounts.builtin:
        return ()
    allowed = account.op.settings.profile_editable_claims
    return tuple(name for name, _ in CLAIMS if name in EDITABLE_CLAIMS and name in allowed)


def _check(name: str, value: str) -> str | Message:
    """Why ``value`` cannot be the claim ``name`` ("" when it can)."""
    limit = MAX_LENGTHS.get(name, MAX_LENGTH)
    if len(value) > limit:
        return Message(N_("Use at most %(count)s characters."), {"count": limit})
    if has_control_characters(value):
        return N_("Remove the control characters.")
    if name == "locale" and value and not BCP47.fullmatch(value):
        return N_("Use a language tag such as en, en-GB or pt-BR.")
    return ""


def _claims(account: AccountRequest) -> dict[str, Any]:
    found = account.op.accounts.account_of(account.user)
    claims = dict(found.claims) if found else {}
    return {name: claims.get(name) or "" for name, _ in CLAIMS}


def _context(account: AccountRequest, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "section": "profile",
        "claims": CLAIMS,
        "values": _claims(account),
        "editable": _editable(account),
        "builtin": account.op.accounts.builtin and bool(account.user.email),
        "errors": {},
        "password_errors": {},
        "notice": "",
        "min_password": MIN_PASSWORD,
    }
    if "values" in extra:
        context["values"] = {**context["values"], **extra.pop("values")}
    context.update(extra)
    return context


def _page(account: AccountRequest, status: int = 200, **extra: Any) -> Response:
    return account.page("account_profile.html", status, **_context(account, **extra))
