"""The console's "Registration tokens" page: initial access tokens (RFC 7591 section 3)
listed, issued and revoked (``docs/administration.md``, "Registration tokens").

As the client pages, each handler gets an :class:`~.console_pages.AdminRequest` already
authenticated and CSRF-checked, and the work is :mod:`oidc_core.admin.initial_tokens`
with the administrator as the actor.  A new token's value goes to its page as a one-time
value kept in the same transaction as the token (as a new client secret is): shown once,
never twice; a form with an error is shown again (400) and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webob import Response

from .. import registration
from ..claims import SUPPORTED_SCOPES
from ..errors import PageError
from ..ui.translations import N_, Message
from . import initial_tokens
from .console_pages import AdminRequest

PATH = "/registration-tokens"
ONE_TIME_NAME = "registration-token:issued"
NOTICES = {"revoked": N_("The registration token was revoked: it registers nothing more.")}
# How the pages name each state of a token (initial_tokens.state; the value stays English).
STATE_NAMES = {
    initial_tokens.LIVE: N_("live"),
    initial_tokens.EXPIRED: N_("expired"),
    initial_tokens.USED_UP: N_("used up"),
    initial_tokens.REVOKED: N_("revoked"),
}
LABELS = {
    "name": N_("Name"),
    "expires_in": N_("Expires in"),
    "uses_allowed": N_("Uses"),
    "scopes": N_("Allowed scopes"),
    "grant_types": N_("Allowed grant types"),
    "redirect_hosts": N_("Allowed redirect URI hosts"),
}


@dataclass
class TokenForm:
    """What the administrator typed, kept as is to show the form again."""

    name: str = ""
    expires_in: str = "1d"
    uses_allowed: str = "1"
    scopes: frozenset[str] = frozenset()
    grant_types: frozenset[str] = frozenset()
    redirect_hosts: str = ""  # the textarea: one host a line
    errors: dict[str, str | Message] = field(default_factory=dict)

    @classmethod
    def posted(cls, admin: AdminRequest) -> TokenForm:
        return cls(
            name=admin.field("name"),
            expires_in=admin.field("expires_in"),
            uses_allowed=admin.field("uses_allowed"),
            scopes=frozenset(admin.form.get("scope", ())),
            grant_types=frozenset(admin.form.get("grant_type", ())),
            redirect_hosts=admin.field("redirect_hosts"),
        )

    def request(self) -> initial_tokens.TokenRequest:
        """The checked request; :class:`initial_tokens.InvalidTokenField` names a field."""
        uses = self.uses_allowed.strip()
        return initial_tokens.checked(
            {
                "name": self.name,
                "expires_in": initial_tokens.duration(self.expires_in),
                "uses_allowed": int(uses) if uses.isascii() and uses.isdigit() else uses,
                "scopes": sorted(self.scopes),
                "grant_types": sorted(self.grant_types),
                "redirect_hosts": [
                    h.strip() for h in self.redirect_hosts.splitlines() if h.strip()
                ],
            }
        )


def registration_tokens(admin: AdminRequest) -> Response:
    """GET: the tokens and the form; POST: issue one, then show its value once."""
    if admin.request.method == "GET":
        return _page(admin, TokenForm(), notice=admin.notice(NOTICES))
    form = TokenForm.posted(admin)
    try:
        request = form.request()
    except initial_tokens.InvalidTokenField as error:
        form.errors = {error.field: error.page_message}
        return _page(admin, form, status=400)
    with admin.op.storage.transaction():
        token, value = initial_tokens.issue(admin.op.storage, request, admin.actor)
        shown = {"id": token.id, "token": value}
        admin.op.flashes.put(admin.request, admin.session, ONE_TIME_NAME, shown)
    return admin.redirect(PATH + "/issued")


def issued(admin: AdminRequest) -> Response:
    """The token a POST just issued, once; a reload says it cannot be shown again."""
    shown = admin.op.flashes.take(admin.request, admin.session, ONE_TIME_NAME)
    token = admin.op.storage.initial_access_tokens.get(shown["id"]) if shown else None
    return admin.page(
        "admin_registration_token.html",
        token=token,
        value=shown["token"] if shown and token else None,
        state=initial_tokens.state,
    )


def revoke(admin: AdminRequest, token_id: str) -> Response:
    try:
        initial_tokens.revoke(admin.op.storage, int(token_id), admin.actor)
    except initial_tokens.TokenNotFound:
        raise PageError(
            "There is no unrevoked registration token with this ID.", status=404
        ) from None
    return admin.redirect(PATH + "?notice=revoked")


def _page(admin: AdminRequest, form: TokenForm, *, status: int = 200, notice: str = "") -> Response:
    return admin.page(
        "admin_registration_tokens.html",
        status,
        tokens=admin.op.storage.initial_access_tokens.all(),
        state=initial_tokens.state,
        state_names=STATE_NAMES,
        form=form,
        errors=form.errors,
        labels=LABELS,
        notice=notice,
        scopes=SUPPORTED_SCOPES,
        grant_types=registration.GRANT_TYPES,
    )
