"""Signing out ends the browser session, not offline access (T-50's "after logout" policy).

OpenID Connect Core 1.0 section 11: ``offline_access`` asks for access while the user is
not signed in, so refresh tokens outlive an RP-initiated logout; the client revokes them
at ``/revoke`` (RFC 7009) when it no longer wants them.  Access tokens live out their short
lifetime too.  What sign-out does end: the session cookie and any code issued silently.
"""

from __future__ import annotations

from urllib.parse import urlencode

import webtest

from oidc_core.storage import Storage
from tests.support.flow import RP, Account, Flow, query_of
from tests.support.tokens import offline_client, offline_flow, offline_tokens, post_as, refresh

BYE = "https://offline.example/bye"


def signed_out(flow: Flow, id_token: str) -> None:
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": BYE}
    response = flow.app.get("/end_session?" + urlencode(params))
    assert response.status_int == 303 and response.headers["Location"].startswith(BYE)
    prompt_none = flow.start(prompt="none").headers["Location"]
    assert query_of(prompt_none)["error"] == "login_required"


def test_refresh_tokens_outlive_sign_out_until_revoked(
    app: webtest.TestApp, storage: Storage, alice: Account
) -> None:
    rp: RP = offline_client(storage, post_logout_redirect_uris=(BYE,))
    flow = offline_flow(app, rp, alice)
    tokens = offline_tokens(flow)
    signed_out(flow, tokens["id_token"])
    refreshed = refresh(app, rp, tokens["refresh_token"])
    assert refreshed.status_int == 200, refreshed.text
    latest = refreshed.json["refresh_token"]
    assert post_as(app, "/revoke", rp, {"token": latest}).status_int == 200
    assert refresh(app, rp, latest).json["error"] == "invalid_grant"
