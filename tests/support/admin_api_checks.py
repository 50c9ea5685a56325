"""What a management API call left behind, for the API's tests: client counts, stored
rows, and whether a client's code flow gets a token.
"""

from __future__ import annotations

from typing import Any

import webtest

from oidc_core.storage import Storage
from tests.support.flow import RP, Account, Flow


def count_clients(storage: Storage) -> int:
    return int(storage.database.execute_sql("SELECT COUNT(*) FROM oidc_client").fetchone()[0])


def stored_row(storage: Storage, client_id: str) -> dict[str, Any]:
    cursor = storage.database.execute_sql(
        "SELECT * FROM oidc_client WHERE client_id = "
        + ("?" if storage.url.startswith("sqlite") else "%s"),
        (client_id,),
    )
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def rp_of(created: dict[str, Any], secret: str | None = None) -> RP:
    return RP(created["client_id"], secret or created["client_secret"], created["redirect_uris"])


def token_status(app: webtest.TestApp, client: RP, user: Account) -> tuple[int, dict[str, Any]]:
    """Run the code flow for ``client`` and redeem the code with its (clear) secret."""
    flow = Flow(app, client, user, scope="openid email")
    response = flow.token(flow.authorize()["code"])
    return response.status_int, response.json
