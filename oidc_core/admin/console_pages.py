"""The console's pages for a signed-in administrator: clients, secrets and the audit log.

Each handler gets an :class:`AdminRequest` (already authenticated, its POST form already
CSRF-checked by :func:`oidc_core.admin.console.dispatch`) and makes every change through
:class:`~oidc_core.admin.service.ClientAdmin` with the administrator's login as the actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from .. import responses
from ..claims import SCOPE_DESCRIPTIONS, SUPPORTED_SCOPES
from ..errors import PageError
from ..interactions.browser import csrf_token
from ..records import BrowserSession, Client, User
from ..registration import InvalidMetadata
from ..ui.render import iso, when
from .console_forms import LABELS, ClientForm, errors_of, whole_number
from .service import MAX_GRACE_SECONDS, ClientNotFound

if TYPE_CHECKING:
    from ..provider import Provider

CSRF_PURPOSE = "admin"
AUDIT_PAGE_SIZE = 100
SAVED = "Changes saved."
UNCHANGED = "Nothing to save: no field was changed."
NOTICES = {"deleted": "The client was deleted, with every token and consent it had."}
ACTIONS = {
    "client.create": "Created client",
    "client.update": "Changed client",
    "client.reset_secret": "Reset client secret",
    "client.delete": "Deleted client",
    "admin_token.create": "Created admin API token",
    "admin_token.revoke": "Revoked admin API token",
    "user.promote": "Made administrator",
    "user.demote": "Withdrew administrator",
}


@dataclass(frozen=True)
class AdminRequest:
    """A request from a signed-in administrator."""

    op: Provider
    request: Request
    session: BrowserSession
    user: User
    form: dict[str, list[str]]

    @property
    def actor(self) -> str:
        """How the audit log names this administrator."""
        return self.op.accounts.actor(self.user)

    def field(self, name: str) -> str:
        values = self.form.get(name)
        return values[0] if values else ""

    def url(self, path: str) -> str:
        return self.op.url("/admin" + path)

    def page(
        self, template: str, status: int = 200, images_from: Iterable[str] = (), **context: Any
    ) -> Response:
        """``images_from``: the clients' logos it shows (:func:`responses.html_page`)."""
        return responses.html_page(
            self.op.render(
                template,
                admin=self.user,
                user_name=self.actor,
                csrf_token=csrf_token(self.session, CSRF_PURPOSE),
                admin_url=self.url,
                when=when,
                iso=iso,
                logo_url=self.op.site_url,
                settings=self.op.settings,
                **context,
            ),
            status,
            images_from=images_from,
        )

    def client(self, client_id: str) -> Client:
        try:
            return self.op.clients.get(client_id)
        except ClientNotFound:
            raise PageError("There is no client with this client ID.", status=404) from None

    def last_used(self, client: Client) -> int | None:
        found = self.op.clients.search(client.client_id, limit=1000)
        return next((used for c, used in found if c.client_id == client.client_id), None)


def client_list(admin: AdminRequest) -> Response:
    try:
        query, notice = admin.request.GET.get("q", ""), admin.request.GET.get("notice", "")
    except UnicodeDecodeError:  # a query that is not UTF-8: show every client
        query, notice = "", ""
    query = "".join(ch for ch in query if ch.isprintable()).strip()[:200]
    clients = admin.op.clients.search(query, sort="name", limit=500)
    notice = NOTICES.get(notice, "")
    return admin.page("admin_clients.html", clients=clients, query=query, notice=notice)


def client_new(admin: AdminRequest) -> Response:
    if admin.request.method == "GET":
        return _client_form(admin, None, ClientForm())
    form = ClientForm.posted(admin.form)
    metadata, errors = form.validate()
    if errors:
        return _client_form(admin, None, form, errors, status=400)
    try:
        client, secret = admin.op.clients.create(metadata, actor=admin.actor)
    except InvalidMetadata as error:
        return _client_form(admin, None, form, errors_of(error), status=400)
    return admin.page("admin_secret.html", client=client, secret=secret, created=True)


def client_edit(admin: AdminRequest, client_id: str) -> Response:
    client = admin.client(client_id)
    if admin.request.method == "GET":
        return _client_form(admin, client, ClientForm.of(client))
    form = ClientForm.posted(admin.form)
    changes, errors = form.validate(client)
    if errors:
        return _client_form(admin, client, form, errors, status=400)
    if not changes:
        return _client_form(admin, client, ClientForm.of(client), notice=UNCHANGED)
    try:
        client = admin.op.clients.update(client_id, changes, actor=admin.actor)
    except ClientNotFound:
        raise PageError("There is no client with this client ID.", status=404) from None
    except InvalidMetadata as error:
        return _client_form(admin, client, form, errors_of(error), status=400)
    return _client_form(admin, client, ClientForm.of(client), notice=SAVED)


def _client_form(
    admin: AdminRequest,
    client: Client | None,
    form: ClientForm,
    errors: dict[str, str] | None = None,
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
        last_used=admin.last_used(client) if client else None,
        scopes=[(scope, SCOPE_DESCRIPTIONS.get(scope, "")) for scope in SUPPORTED_SCOPES],
    )


def reset_secret(admin: AdminRequest, client_id: str) -> Response:
    client = admin.client(client_id)
    if admin.request.method == "GET":
        return _reset_form(admin, client, "0")
    grace = admin.field("grace_seconds")
    try:
        seconds = whole_number("grace_seconds", grace, "must be a whole number of seconds")
        # One transaction that also reads the client back: nothing after the commit can
        # fail and leave a new secret stored that nobody was shown.
        client, secret = admin.op.clients.change(
            client_id, {}, admin.actor, reset_secret=True, grace_seconds=seconds or 0
        )
    except ClientNotFound:
        raise PageError("There is no client with this client ID.", status=404) from None
    except InvalidMetadata as error:
        return _reset_form(admin, client, grace, errors_of(error), status=400)
    return admin.page("admin_secret.html", client=client, secret=secret, grace=seconds or 0)


def _reset_form(
    admin: AdminRequest,
    client: Client,
    grace: str,
    errors: dict[str, str] | None = None,
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
    return responses.redirect(admin.url("/?notice=deleted"), 303)


def audit_log(admin: AdminRequest) -> Response:
    page_text = admin.request.GET.get("page", "1")
    valid = page_text.isascii() and page_text.isdigit() and len(page_text) <= 5
    page = max(1, int(page_text)) if valid else 1
    entries = admin.op.clients.audit_log(AUDIT_PAGE_SIZE + 1, (page - 1) * AUDIT_PAGE_SIZE)
    return admin.page(
        "admin_audit.html",
        entries=entries[:AUDIT_PAGE_SIZE],
        page=page,
        more=len(entries) > AUDIT_PAGE_SIZE,
        actions=ACTIONS,
    )
