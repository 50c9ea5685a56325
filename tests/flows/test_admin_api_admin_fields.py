"""Fields an administrator decides (consent, a second factor, token lifetimes) need an
``admin`` API token: a ``clients:write`` token, as a server's provisioning script holds,
cannot set them (found by a security review of issue 17).
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from oidc_core import Provider
from oidc_core.storage import Storage
from tests.support.admin_api import CLIENTS, Api, new_token
from tests.support.snapshot import database

pytestmark = pytest.mark.mounts("one")

# What issue 17 calls "decided by an administrator" (self_registration.ADMIN_ONLY).
ADMIN_DECIDED: list[tuple[str, Any]] = [
    ("skip_consent", True),
    ("require_mfa", False),
    ("access_token_ttl", 86400),
]


@pytest.mark.parametrize(("field", "value"), ADMIN_DECIDED)
def test_a_clients_write_token_cannot_set_what_an_administrator_decides(
    app: webtest.TestApp, provider: Provider, storage: Storage, field: str, value: Any
) -> None:
    """docs/administration.md hands each server a ``clients:write`` token ("a token stolen
    from a server's provisioning script can then manage clients, not users").  With it,
    ``POST /admin/api/clients`` and ``PATCH`` accept ``skip_consent: true`` (and
    ``require_mfa: false``, day-long access tokens): a stolen provisioning token creates a
    client on the thief's host that signs every visiting user in silently, no consent
    page, and collects their ID tokens, email and profile; or switches consent off for a
    client whose redirect URIs it also controls.  Registration refuses exactly these
    fields to servers (REG-6) for this reason.  Expected: 403 ``insufficient_scope``
    (``admin`` needed) for a create or update that sets one of them, nothing stored.
    """
    admin = Api(app, new_token(provider, "root")[1])
    existing = admin.create(client_name="Someone else's server", require_mfa=True)
    server = Api(app, new_token(provider, "cpanel-07", ("clients:write",))[1])
    before = database(storage)
    if field != "require_mfa":  # false is its default: creating with it changes nothing
        server.call("POST", CLIENTS, {**_metadata(), field: value}, status=403)
    server.call("PATCH", f"{CLIENTS}/{existing['client_id']}", {field: value}, status=403)
    storage.release()
    assert database(storage) == before


def _metadata() -> dict[str, Any]:
    return {
        "client_name": "Thief",
        "redirect_uris": ["https://thief.example/cb"],
        "scope": "openid profile email",
    }
