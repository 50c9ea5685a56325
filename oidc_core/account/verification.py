"""The account's email address: changing it (``/account/email``) and confirming it by the
link sent to it (``/account/verify-email?token=...``).

``email_verified`` becomes true only through a link, for the address it was sent to while
that is still the account's address, or by an administrator (``oidc-core user create
--email-verified``).  Changing the address (built-in accounts, with the current password)
makes it unverified and sends a link to the new one.  Opening a link changes nothing; its
page's button (a CSRF-checked POST) uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from webob import Request, Response

from ..addresses import is_mailbox
from ..errors import PageError
from ..storage import DuplicateEmail
from ..ui.translations import N_, Message
from . import links, visitor
from .profile import HOST_OWNED, is_password_of, profile_page
from .request import AccountRequest
from .visitor import link_result

if TYPE_CHECKING:
    from ..context import Context

VERIFY_PURPOSE = "verify-email"
DEAD_LINK = N_(
    "This link does not work (any more): it was used, a newer one was sent, or it expired. "
    "Sign in and change your address again to get a new one."
)
NOT_YOURS_NOW = N_("This address is no longer the address of the account: nothing changed.")
CONFIRMED = N_("Your address %(email)s is confirmed.")
BAD_EMAIL = N_("Enter an email address, such as name@example.com.")
TAKEN = N_("Another account uses this address.")
WRONG_PASSWORD = N_("This is not your current password.")


def verify_email(op: Context, request: Request) -> Response:
    """GET: the link's address and a button; POST: the address confirmed, the link used."""
    if request.method == "GET":
        token = visitor.token_of(request)
        link = op.storage.links.find(links.link_digest(token), links.VERIFY)
        if link is None:
            return _message(op, request, DEAD_LINK, 400)
        return visitor.form_page(
            op,
            request,
            "account_verify.html",
            VERIFY_PURPOSE,
            action=op.url(links.VERIFY_PATH),
            token=token,
            email=link.email,
        )
    fields = visitor.posted(op, request, VERIFY_PURPOSE)
    if isinstance(fields, Response):
        return fields
    token_digest = links.link_digest(visitor.token_of(request, fields))
    with op.storage.transaction():
        link = op.storage.links.use(token_digest, links.VERIFY)
        confirmed = link is not None and op.storage.users.confirm_email(link.user_id, link.email)
    if link is None:
        return _message(op, request, DEAD_LINK, 400)
    if not confirmed:
        return _message(op, request, NOT_YOURS_NOW, 409)
    return _message(op, request, Message(CONFIRMED, {"email": link.email}), 200)


def change_email(account: AccountRequest) -> Response:
    """POST: a new sign-in address (with the current password), unverified until its link
    is used; the link is mailed to it."""
    op, user = account.op, account.user
    if not op.accounts.builtin or not user.email:
        raise PageError(HOST_OWNED, status=403)
    new = account.field("email").strip().lower()
    error = _email_error(new)
    if not error and new == user.email:
        return account.redirect("/profile")
    if not error and not is_password_of(account, account.field("current_password")):
        error = WRONG_PASSWORD
    if not error:
        try:
            op.storage.users.change_email(user.id, new)
        except DuplicateEmail:
            error = TAKEN
    if error:
        return _profile_with_error(account, new, error)
    op.storage.links.end_all(user.id, links.RESET)  # mailed to the old address: void
    changed = op.storage.users.by_id(user.id)
    if changed is not None:
        links.send_verification(op, changed, account.request)
    return account.redirect("/profile?notice=email-changed")


def send_link_again(account: AccountRequest) -> Response:
    """POST: a new link for the account's unconfirmed address (the older one ends); counted
    like a reset request (:meth:`~oidc_core.throttle.Throttle.link_request`)."""
    op, user = account.op, account.user
    if not op.accounts.builtin or not user.email:
        raise PageError(HOST_OWNED, status=403)
    if user.email_verified:
        return account.redirect("/profile")
    op.throttle.link_request(user.email, op.client_address(account.request))  # 429 if locked
    links.send_verification(op, user, account.request)
    return account.redirect("/profile?notice=link-sent")


def _email_error(email: str) -> str:
    return "" if is_mailbox(email) else BAD_EMAIL


def _profile_with_error(account: AccountRequest, email: str, error: str) -> Response:
    return profile_page(account, 400, email_value=email, email_error=error)


def _message(op: Context, request: Request, message: str | Message, status: int) -> Response:
    return link_result(op, request, message, status)
