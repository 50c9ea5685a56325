"""The console's user pages: the list (search, filter by status) and a user's page, whose
buttons suspend, close or activate the account (``docs/administration.md``, "Users and
their status").

As the client pages, each handler gets an :class:`~.console_pages.AdminRequest` already
authenticated and CSRF-checked, and changes go through :mod:`oidc_core.admin.users` with
the administrator as the actor.  A change answers 303 to the user's page (POST-redirect-GET).
"""

from __future__ import annotations

from urllib.parse import quote

from webob import Response

from ..errors import PageError
from ..records import ACCOUNT_STATUSES, ACTIVE, CLOSED, SUSPENDED, User
from ..ui.translations import N_
from . import users
from .console_pages import AdminRequest

LIST_LIMIT = 500
NO_SUCH_USER = N_("There is no user with this ID.")
NOTICES = {
    "changed": N_("The account's status was changed."),
    "unchanged": N_("The account already had this status."),
}
# How the pages name each status (the stored value stays English).
STATUS_NAMES = {ACTIVE: N_("active"), SUSPENDED: N_("suspended"), CLOSED: N_("closed")}
# The buttons a user's page offers for each status: (new status, label, danger).
BUTTONS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    ACTIVE: ((SUSPENDED, N_("Suspend"), False), (CLOSED, N_("Close account"), True)),
    SUSPENDED: ((ACTIVE, N_("Activate"), False), (CLOSED, N_("Close account"), True)),
    CLOSED: ((ACTIVE, N_("Activate"), False),),
}


def user_list(admin: AdminRequest) -> Response:
    try:
        query = admin.request.GET.get("q", "")
        status = admin.request.GET.get("status", "")
    except UnicodeDecodeError:  # a query that is not UTF-8: every user
        query = status = ""
    query = "".join(ch for ch in query if ch.isprintable()).strip()[:200]
    status = status if status in ACCOUNT_STATUSES else ""
    found = users.search(admin.op, query, status, limit=LIST_LIMIT)
    return admin.page(
        "admin_users.html",
        users=found,
        query=query,
        wanted_status=status,
        statuses=ACCOUNT_STATUSES,
        status_names=STATUS_NAMES,
        more=len(found) == LIST_LIMIT,
    )


def user_page(admin: AdminRequest, subject: str) -> Response:
    user = _user(admin, subject)
    return admin.page(
        "admin_user.html",
        user=user,
        buttons=BUTTONS[user.status] if user.status in BUTTONS else BUTTONS[ACTIVE],
        notice=admin.notice(NOTICES),
        status_names=STATUS_NAMES,
    )


def change_status(admin: AdminRequest, subject: str) -> Response:
    user = _user(admin, subject)
    status = admin.field("status")
    if status not in ACCOUNT_STATUSES:
        raise PageError("Choose one of the statuses offered.", status=400)
    before = user.status
    users.change(admin.op, user.subject, {"status": status}, admin.actor)
    changed = "changed" if before != status else "unchanged"
    return admin.redirect(user_path(user) + "?notice=" + changed)


def user_path(user: User) -> str:
    return "/users/" + quote(user.subject, safe="")


def _user(admin: AdminRequest, subject: str) -> User:
    try:
        return users.find(admin.op, subject)
    except users.UserNotFound:
        raise PageError(NO_SUCH_USER, status=404) from None
