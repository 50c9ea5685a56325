"""Connected apps: the clients a user authorized, and revoking one (SECURITY-CHECKLIST
T-56, T-57, T-64).

Revoking forgets the consent (the next authorization asks again) and ends everything
the app holds for this user, in one transaction (:meth:`AccountStore.revoke`): unused
codes, access tokens, refresh tokens; a back-channel logout token is queued with it when
the app registered a ``backchannel_logout_uri``.  Nothing of other apps or other users.
"""

from __future__ import annotations

from urllib.parse import quote

from webob import Response

from .. import backchannel
from ..claims import SCOPE_DESCRIPTIONS, SUPPORTED_SCOPES
from ..errors import PageError
from ..records import Client, ConnectedApp
from ..ui.translations import N_
from .request import AccountRequest

NO_SUCH_APP = N_("This app has no access to your account.")


def connected_apps(account: AccountRequest) -> Response:
    found = account.op.storage.account.connected_apps(account.user.id)
    return account.page(
        "account_apps.html",
        section="apps",
        apps=found,
        revoked=_revoked_name(account, found),
        logo_url=account.op.site_url,
        images_from=[account.op.site_url(app.client.logo_uri) for app in found],
        described=described,
        revoke_path=lambda client_id: "/apps/" + quote(client_id, safe="") + "/revoke",
    )


def described(scopes: tuple[str, ...]) -> list[str]:
    """What the scopes let an app do, in plain words, in the order of the consent page
    (clients are only ever granted supported scopes: ``registration``)."""
    return [SCOPE_DESCRIPTIONS[scope] for scope in SUPPORTED_SCOPES if scope in scopes]


def revoke(account: AccountRequest, client_id: str) -> Response:
    """POST: revoke this user's grant to ``client_id``; 404 when the user has none."""
    app = _connected(account, client_id)
    if app is None:
        raise PageError(NO_SUCH_APP, status=404)
    tokens = backchannel.revocation_tokens(account.op, app.client, account.user)
    account.op.storage.account.revoke(account.user.id, app.client.id, tokens)
    if tokens:
        account.op.backchannel.wake()
    return account.redirect("/?revoked=" + quote(client_id, safe=""))


def _connected(account: AccountRequest, client_id: str) -> ConnectedApp | None:
    found = account.op.storage.account.connected_apps(account.user.id)
    return next((app for app in found if app.client.client_id == client_id), None)


def _revoked_name(account: AccountRequest, connected: list[ConnectedApp]) -> str:
    """The name of the app named by ``?revoked=`` (looked up, never the request's text),
    when it no longer has access."""
    try:
        client_id = account.request.GET.get("revoked", "")
    except UnicodeDecodeError:
        return ""
    if not client_id or len(client_id) > 128:
        return ""
    client: Client | None = account.op.storage.clients.by_client_id(client_id)
    if client is None or any(app.client.id == client.id for app in connected):
        return ""
    return client.name
