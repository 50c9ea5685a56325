"""Profile: the claims apps may receive, editing them, and changing the password.

Only built-in accounts (``oidc_user``) are edited here, and only the claims named in
``settings.profile_editable_claims``; a host's own account source keeps its data and its
passwords.  A password change (when ``password_change_revokes_refresh_tokens``, the
default) revokes every token issued to the user and ends their other sessions.
"""

from __future__ import annotations

from typing import Any

from webob import Response

from .. import authn
from ..claims import EDITABLE_CLAIMS
from ..errors import PageError
from ..text import has_control_characters
from ..ui import locales
from ..ui.translations import N_, Message
from . import links
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

SAVED = N_("Your profile was saved.")
NOTICES = {
    "saved": SAVED,
    "password-changed": N_("Your password was changed."),
    "email-changed": N_(
        "Your email address was changed. Open the link we sent to it to confirm it."
    ),
    "link-sent": N_("We sent a new link to your address. Open it to confirm the address."),
    "password-changed-everywhere": N_(
        "Your password was changed. Apps must ask you to sign in again, "
        "and your other sessions were signed out."
    ),
}
HOST_OWNED = N_("Your account is managed by the site you signed in with; change it there.")


def profile(account: AccountRequest) -> Response:
    if account.request.method == "GET":
        notice = account.notice(NOTICES)
        return profile_page(account, notice=notice)
    if not account.op.accounts.builtin:
        raise PageError(HOST_OWNED, status=403)
    editable = _editable(account)
    values = {name: account.field(name).strip() for name in editable if name in account.form}
    current = _claims(account)
    errors = {
        name: error for name, value in values.items() if (error := _check(name, value, current))
    }
    if errors:
        return profile_page(account, values=values, errors=errors, status=400)
    account.op.storage.users.update_profile(account.user.id, values)
    # A page of its own (POST-redirect-GET): it shows the values just saved, and a reload
    # posts nothing again.
    return account.redirect("/profile?notice=saved")


def change_password(account: AccountRequest) -> Response:
    """POST: check the current password, store the new one's hash, and (by policy) end
    every token and every other session of the user, in one transaction."""
    op, user = account.op, account.user
    if not op.accounts.builtin or not user.email:
        raise PageError(HOST_OWNED, status=403)
    current, new = account.field("current_password"), account.field("new_password")
    limit = op.settings.password_max_length
    errors = password_errors(limit, new, account.field("new_password_again"))
    if not errors and not is_password_of(account, current):
        errors = {"current_password": N_("This is not your current password.")}
    if errors:
        return profile_page(account, password_errors=errors, status=400)
    new_hash = op.passwords.hash(new)
    revoke = op.settings.password_change_revokes_refresh_tokens
    queued = False
    # One transaction: a failure anywhere leaves the old password with everything it let in.
    with op.storage.transaction():
        op.storage.users.set_password_hash(user.id, new_hash)
        op.storage.links.end_all(user.id, links.RESET)  # a link mailed before is void
        if revoke:
            op.storage.account.revoke(user.id, None)
            queued = end_every_session(op, user.id, keep=account.session.id)
        key = op.browser.log_in(
            account.session,
            user.id,
            account.request,
            op.client_address(account.request),
            account.session.amr or (authn.KNOWLEDGE,),  # still signed in as before,
            account.session.auth_time,  # and as long ago: a password is not a new sign-in
        )
    if queued:
        op.backchannel.wake()
    notice = "password-changed-everywhere" if revoke else "password-changed"
    response = account.redirect("/profile?notice=" + notice)
    op.browser.set_cookie(response, key)
    return response


def is_password_of(account: AccountRequest, password: str) -> bool:
    email = account.user.email or ""
    # Counted like any sign-in; while locked, Throttled becomes a 429 page.
    address = account.op.client_address(account.request)
    checked = account.op.accounts.authenticate(email, password, address=address)
    return checked is not None and checked.id == account.user.id


def password_errors(limit: int, new: str, again: str) -> dict[str, str | Message]:
    """What is wrong with a new password typed twice (field -> message); ``limit``: the
    longest accepted, in bytes (``password_max_length``)."""
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


def _check(name: str, value: str, current: dict[str, Any]) -> str | Message:
    """Why ``value`` cannot be the claim ``name`` ("" when it can).  The language is one the
    pages offer (OpenID Connect Core 1.0 section 5.1 ``locale``: a BCP 47 tag), or none (the
    browser's), or the one the account has now (set before, e.g. ``en-GB``), kept."""
    limit = MAX_LENGTHS.get(name, MAX_LENGTH)
    if len(value) > limit:
        return Message(N_("Use at most %(count)s characters."), {"count": limit})
    if has_control_characters(value):
        return N_("Remove the control characters.")
    if name == "locale" and value not in ("", current["locale"], *locales.SUPPORTED):
        return N_("Choose one of the languages offered.")
    return ""


def _claims(account: AccountRequest) -> dict[str, Any]:
    found = account.op.accounts.account_of(account.user)
    claims = dict(found.claims) if found else {}
    return {name: claims.get(name) or "" for name, _ in CLAIMS}


def _context(account: AccountRequest, **extra: Any) -> dict[str, Any]:
    claims = _claims(account)
    context: dict[str, Any] = {
        "section": "profile",
        "claims": CLAIMS,
        "values": claims,
        "editable": _editable(account),
        "builtin": account.op.accounts.builtin and bool(account.user.email),
        "errors": {},
        "password_errors": {},
        "email_value": "",
        "email_error": "",
        "email_verified": account.user.email_verified,
        "notice": "",
        "min_password": MIN_PASSWORD,
        "languages": _languages(claims["locale"]),
    }
    if "values" in extra:
        context["values"] = {**context["values"], **extra.pop("values")}
    context.update(extra)
    return context


def _languages(current: str) -> list[tuple[str, str]]:
    """The languages to choose from, (tag, name): the pages' own, then the account's
    ``current`` one if it is another (kept unless another is chosen)."""
    offered = [(tag, locales.NAMES[tag]) for tag in locales.SUPPORTED]
    if current and current not in locales.SUPPORTED:
        offered.append((current, current))
    return offered


def profile_page(account: AccountRequest, status: int = 200, **extra: Any) -> Response:
    return account.page("account_profile.html", status, **_context(account, **extra))
