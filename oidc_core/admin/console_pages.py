"""The console's pages for a signed-in administrator: clients, secrets and the audit log.

Each handler gets an :class:`AdminRequest` (already authenticated, its POST form already
CSRF-checked by :func:`oidc_core.admin.console.dispatch`) and makes every change through
:class:`~oidc_core.admin.service.ClientAdmin` with the administrator's login as the actor.

A POST that changes something answers 303 to a page (POST-redirect-GET): reloading that
page repeats nothing.  A new secret goes to its page as a one-time value
(:mod:`oidc_core.interactions.flash`), kept in the same transaction as the change, so a
secret is never stored without being shown once, and never shown twice.  A POST that
changes nothing because its form has errors shows the form again (400).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from webob import Request, Response

from .. import responses
from ..claims import SCOPE_DESCRIPTIONS, SUPPORTED_SCOPES
from ..errors import PageError
from ..interactions.browser import csrf_token
from ..params import first, query_form
from ..records import BrowserSession, Client, User
from ..registration import InvalidMetadata
from ..ui.render import iso, when
from ..ui.translations import N_, Message
from .console_forms import LABELS, ClientForm, errors_of, whole_number
from .service import MAX_GRACE_SECONDS, ClientNotFound

if TYPE_CHECKING:
    from ..context import Context

CSRF_PURPOSE = "admin"
AUDIT_PAGE_SIZE = 100
SAVED = N_("Changes saved.")
UNCHANGED = N_("Nothing to save: no field was changed.")
NOTICES = {"deleted": N_("The client was deleted, with every token and consent it had.")}
CLIENT_NOTICES = {"saved": SAVED, "unchanged": UNCHANGED}
ONE_TIME_NAME = "client-secret:"  # + client_id: the name its new secret is kept under
ACTIONS = {
    "client.create": N_("Created client"),
    "client.update": N_("Changed client"),
    "client.reset_secret": N_("Client secret reset"),
    "client.delete": N_("Deleted client"),
    "admin_token.create": N_("Created admin API token"),
    "admin_token.revoke": N_("Revoked admin API token"),
    "initial_access_token.create": N_("Issued registration token"),
    "initial_access_token.revoke": N_("Revoked registration token"),
    "user.promote": N_("Made administrator"),
    "user.demote": N_("Withdrew administrator"),
    "user.create": N_("Created user"),
    "user.update": N_("Changed user"),
    "user.status": N_("Changed account status"),
}


@dataclass(frozen=True)
class AdminRequest:
    """A request from a signed-in administrator."""

    op: Context
    request: Request
    session: BrowserSession
    user: User
    form: dict[str, list[str]]

    @property
    def actor(self) -> str:
        """How the audit log names this administrator."""
        return self.op.accounts.actor(self.user)

    def field(self, name: str) -> str:
        return first(self.form, name)

    def url(self, path: str) -> str:
        return self.op.url("/admin" + path)

    def redirect(self, path: str) -> Response:
        return responses.redirect(self.url(path), 303)

    def notice(self, notices: dict[str, str]) -> str:
        """The fixed text that the ``notice`` query parameter names ("" for none)."""
        try:
            return notices.get(self.request.GET.get("notice", ""), "")
        except UnicodeDecodeError:
            return ""

    def keep_secret(self, client: Client, secret: str | None, kind: str, grace: int = 0) -> None:
        """Keep the client's new secret for its page, which shows it once (see above)."""
        shown = {"secret": secret, "kind": kind, "grace": grace}
        self.op.flashes.put(self.request, self.session, ONE_TIME_NAME + client.client_id, shown)

    def frame(self) -> dict[str, Any]:
        """What the console's frame (``admin_base.html``) needs on every page."""
        return {
            "admin": self.user,
            "user_name": self.actor,
            "csrf_token": csrf_token(self.session, CSRF_PURPOSE),
            "admin_url": self.url,
            "my_account_url": self.op.url("/account/"),
            "when": when,
            "iso": iso,
            "logo_url": self.op.site_url,
            "settings": self.op.settings,
        }

    def page(
        self, template: str, status: int = 200, images_from: Iterable[str] = (), **context: Any
    ) -> Response:
        """``images_from``: the clients' logos it shows (:func:`responses.html_page`)."""
        return responses.html_page(
            self.op.render(template, request=self.request, **self.frame(), **context),
            status,
            images_from=images_from,
        )

    def error_page(self, error: PageError) -> Response:
        """The error inside the console's frame, with its navigation."""
        return self.op.error_page(
            error.description,
            error.status,
            error.error,
            request=self.request,
            template="admin_error.html",
            **self.frame(),
        )

    def client(self, client_id: str) -> Client:
        try:
            return self.op.clients.get(client_id)
        except ClientNotFound:
            raise PageError("There is no client with this client ID.", status=404) from None


def client_list(admin: AdminRequest) -> Response:
    try:
        query = admin.request.GET.get("q", "")
    except UnicodeDecodeError:  # a query that is not UTF-8: show every client
        query = ""
    query = "".join(ch for ch in query if ch.isprintable()).strip()[:200]
    clients = admin.op.clients.search(query, sort="name", limit=500)
    notice = admin.notice(NOTICES)
    return admin.page("admin_clients.html", clients=clients, query=query, notice=notice)


def client_new(admin: AdminRequest) -> Response:
    if admin.request.method == "GET":
        return _client_form(admin, None, ClientForm())
    form = ClientForm.posted(admin.form)
    metadata, errors = form.validate()
    if errors:
        return _client_form(admin, None, form, errors, status=400)
    try:
        with admin.op.storage.transaction():
            client, secret = admin.op.clients.create(metadata, actor=admin.actor)
            admin.keep_secret(client, secret, "created")
    except InvalidMetadata as error:
        return _client_form(admin, None, form, errors_of(error), status=400)
    return admin.redirect(_client_path(client.client_id) + "/secret")


def client_edit(admin: AdminRequest, client_id: str) -> Response:
    client = admin.client(client_id)
    if admin.request.method == "GET":
        notice = admin.notice(CLIENT_NOTICES)
        return _client_form(admin, client, ClientForm.of(client), notice=notice)
    form = ClientForm.posted(admin.form)
    changes, errors = form.validate(client)
    if errors:
        return _client_form(admin, client, form, errors, status=400)
    if not changes:
        return admin.redirect(_client_path(client_id) + "?notice=unchanged")
    try:
        # change(): a public client made confidential gets a secret, shown once
        with admin.op.storage.transaction():
            client, secret = admin.op.clients.change(client_id, changes, admin.actor)
            if secret is not None:
                admin.keep_secret(client, secret, "confidential")
    except ClientNotFound:
        raise PageError("There is no client with this client ID.", status=404) from None
    except InvalidMetadata as error:
        return _client_form(admin, client, form, errors_of(error), status=400)
    if secret is not None:
        return admin.redirect(_client_path(client_id) + "/secret")
    return admin.redirect(_client_path(client_id) + "?notice=saved")


def client_secret(admin: AdminRequest, client_id: str) -> Response:
    """The secret a POST just made, once; a reload says it cannot be shown again."""
    client = admin.client(client_id)
    shown = admin.op.flashes.take(admin.request, admin.session, ONE_TIME_NAME + client_id)
    if shown is None:
        return admin.page("admin_secret.html", client=client, kind="gone", secret=None)
    return admin.page("admin_secret.html", client=client, **shown)


def _client_path(client_id: str) -> str:
    return "/clients/" + quote(client_id, safe="")


def _client_form(
    admin: AdminRequest,
    client: Client | None,
    form: ClientForm,
    errors: dict[str, str | Message] | None = None,
    *,
    status: int = 200,
    notice: str = "",
) -> Response:
    return admin.page(
        "admin_client.html",
        status,
        images_from=[admin.op.site_url(client.logo_uri)] if client else [],
        client=client,
        form=form,
        errors=errors or {},
        notice=notice,
        labels=LABELS,
        last_used=admin.op.clients.last_used(client.client_id) if client else None,
        scopes=[(scope, SCOPE_DESCRIPTIONS.get(scope, "")) for scope in SUPPORTED_SCOPES],
    )


def reset_secret(admin: AdminRequest, client_id: str) -> Response:
    client = admin.client(client_id)
    if admin.request.method == "GET":
        return _reset_form(admin, client, "0")
    grace = admin.field("grace_seconds")
    try:
        seconds = whole_number("grace_seconds", grace, N_("must be a whole number of seconds"))
        # One transaction that also reads the client back and keeps the secret for its
        # page: nothing after the commit can fail and leave a new secret nobody is shown.
        with admin.op.storage.transaction():
            client, secret = admin.op.clients.change(
                client_id, {}, admin.actor, reset_secret=True, grace_seconds=seconds or 0
            )
            admin.keep_secret(client, secret, "reset", seconds or 0)
    except ClientNotFound:
        raise PageError("There is no client with this client ID.", status=404) from None
    except InvalidMetadata as error:
        return _reset_form(admin, client, grace, errors_of(error), status=400)
    return admin.redirect(_client_path(client_id) + "/secret")


def _reset_form(
    admin: AdminRequest,
    client: Client,
    grace: str,
    errors: dict[str, str | Message] | None = None,
    *,
    status: int = 200,
) -> Response:
    return admin.page(
        "admin_reset.html",
        status,
        client=client,
        grace=grace,
        errors=errors or {},
        max_grace=MAX_GRACE_SECONDS,
        labels=LABELS,
    )


def delete_client(admin: AdminRequest, client_id: str) -> Response:
    client = admin.client(client_id)
    if admin.request.method == "GET":
        return admin.page("admin_delete.html", client=client)
    try:
        admin.op.clients.delete(client_id, admin.actor)
    except ClientNotFound:
        raise PageError("There is no client with this client ID.", status=404) from None
    return admin.redirect("/?notice=deleted")


def audit_log(admin: AdminRequest) -> Response:
    page_text = first(query_form(admin.request, admin.op.settings.max_param_length), "page")
    valid = page_text.isascii() and page_text.isdigit() and len(page_text) <= 5
    page = max(1, int(page_text)) if valid else 1
    entries = admin.op.clients.audit_log(AUDIT_PAGE_SIZE + 1, (page - 1) * AUDIT_PAGE_SIZE)
    clients = {entry.target for entry in entries if entry.action.startswith("client.")}
    return admin.page(
        "admin_audit.html",
        entries=entries[:AUDIT_PAGE_SIZE],
        names=admin.op.clients.names(clients),  # the clients that still exist
        page=page,
        more=len(entries) > AUDIT_PAGE_SIZE,
        actions=ACTIONS,
    )
