"""Loading the pending authorization behind a login or consent page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from webob import Request

from ..errors import PageError
from ..records import BrowserSession, Client, PendingAuthorization
from ..ui import locales
from ..ui.translations import N_
from .browser import csrf_valid

if TYPE_CHECKING:
    from ..context import Context

EXPIRED = N_(
    "This sign-in request has expired or was opened in another browser. "
    "Go back to the application and start again."
)


@dataclass(frozen=True)
class Interaction:
    session: BrowserSession
    pending: PendingAuthorization
    client: Client
    locale: str = locales.DEFAULT  # the pages' language (ui_locales, else Accept-Language)

    @property
    def scopes(self) -> list[str]:
        requested = dict(self.pending.params).get("scope", "").split()
        return [s for s in dict.fromkeys(requested) if s in self.client.grantable_scopes]

    def client_redirect_uri(self, requested: str) -> str:
        """The stored redirect URI if the client still has it registered."""
        if requested not in self.client.redirect_uris:
            raise PageError("The application no longer accepts this redirect address.")
        return requested

    @property
    def prompt(self) -> frozenset[str]:
        return frozenset(dict(self.pending.params).get("prompt", "").split())


def load(
    op: Context, request: Request, handle: str | None, *, csrf: str | None = None
) -> Interaction:
    """The live pending request ``handle`` of this browser session, CSRF-checked on POST."""
    session = op.browser.current(request)
    if not handle or len(handle) > 64 or session is None:
        raise PageError(EXPIRED, status=400)
    if request.method == "POST" and not csrf_valid(session, handle, csrf or ""):
        raise PageError("The form has expired. Go back and try again.", status=403)
    pending = op.storage.sessions.pending(handle, session.id)
    if pending is None or pending.completed:
        raise PageError(EXPIRED, status=400)
    client = op.storage.clients.by_client_id(pending.client_id)
    if client is None:
        raise PageError("The application is no longer registered.", status=400)
    locale = locales.for_pages(request, dict(pending.params).get("ui_locales"))
    return Interaction(session=session, pending=pending, client=client, locale=locale)
