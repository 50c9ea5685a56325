"""A provisioning script of the reference billing system against ``oidc-core serve``: form
posts with urllib (no test client), a token made with ``oidc-core admin-token create``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests.support.compat_api import CPANEL_REDIRECT_URIS, PATH, form
from tests.support.live import LiveProvider, provider_at


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveProvider]:
    with provider_at(tmp_path_factory.mktemp("compat"), request) as server:
        yield server


def _post(url: str, fields: dict[str, str | int | list[str]]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=urlencode(form(fields)).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_script_with_urllib_against_a_live_server(live: LiveProvider) -> None:
    created = live.cli("admin-token", "create", "--name", "whmcs script", "--json")
    token = json.loads(created)
    url = live.issuer + PATH
    auth = {"identifier": str(token["id"]), "secret": token["token"], "responsetype": "json"}
    status, body = _post(url, {**auth, "action": "CreateOAuthCredential",
                               "grantType": "single_sign_on", "serviceId": 9,
                               "redirectUri": CPANEL_REDIRECT_URIS})  # fmt: skip
    assert (status, body["result"]) == (200, "success"), body
    status, listing = _post(url, {**auth, "action": "ListOAuthCredentials"})
    assert status == 200, listing
    # On PostgreSQL the server shares the suite's database: other clients may be listed.
    clients = listing["clients"]
    assert isinstance(clients, list) and listing["totalresults"] == len(clients) >= 1
    ours = [c for c in clients if c["credentialId"] == body["credentialId"]]
    assert len(ours) == 1 and ours[0]["serviceId"] == 9, listing
    assert str(body["clientSecret"]) not in json.dumps(listing)
    status, refused = _post(url, {**auth, "secret": "wrong", "action": "ListOAuthCredentials"})
    assert (status, refused["result"]) == (401, "error")
