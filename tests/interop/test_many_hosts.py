"""Two hosts, one issuer: two independent ``oidc-core serve`` servers (gunicorn, two workers
each) on their own loopback ports, on ONE database (the PostgreSQL of
``OIDC_TEST_DATABASE_URL``, or one SQLite file both open), with the same issuer.

The issuer is host A's URL (``http://127.0.0.1:<A>``): the browser follows the issuer's
redirects, so it signs in and consents on A and keeps A's cookie.  The relying party's
back-channel calls go straight to host B's port, as a load balancer may send them; B
serves the configured issuer whatever the ``Host``.  A flow crossing hosts works, and a key
rotation made with ``oidc-core keys rotate`` on the shared database is honoured by both
hosts within ``key_cache_seconds``.  ID tokens are verified with PyJWT against the JWKS
each host publishes, never with our own code; neither log may show a 5xx or a traceback.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from oidc_core.testing import pkce_pair
from tests.support.live import (
    HTTP_TIMEOUT,
    LiveProvider,
    another_host,
    free_port,
    provider_at,
    through_provider,
)

pytestmark = pytest.mark.server

KEY_CACHE_SECONDS = 2
PASSWORD = "a long and correct password on two hosts"
SCOPE = "openid profile email offline_access"


@dataclass
class Hosts:
    a: str  # the issuer
    b: str
    live: LiveProvider
    client_id: str
    client_secret: str
    redirect_uri: str
    email: str
    subject: str

    def post(self, base: str, path: str, data: dict[str, str]) -> requests.Response:
        return requests.post(
            base + path,
            data=data,
            auth=(self.client_id, self.client_secret),
            timeout=HTTP_TIMEOUT,
        )


@pytest.fixture(scope="module")
def hosts(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Hosts]:
    tmp = tmp_path_factory.mktemp("hosts")
    settings = {"OIDC_KEY_CACHE_SECONDS": str(KEY_CACHE_SECONDS)}
    with (
        provider_at(tmp, request, settings=settings) as live,
        another_host(live, tmp, request) as b,
    ):
        email = f"hosts-{secrets.token_hex(6)}@example.com"
        subject = live.create_user(email, PASSWORD, "Two Hosts")
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        client_id, client_secret = live.create_client(
            "Two hosts",
            redirect_uri,
            "--scope",
            SCOPE,
            "--grant-type",
            "refresh_token",
        )
        yield Hosts(live.issuer, b, live, client_id, client_secret, redirect_uri, email, subject)


def sign_in_on_a(hosts: Hosts) -> tuple[str, str]:
    """Authorize, log in and consent on host A (the issuer); (code, PKCE verifier)."""
    verifier, challenge = pkce_pair()
    query = {
        "client_id": hosts.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": hosts.redirect_uri,
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
    }
    browser = requests.Session()
    start = browser.get(
        f"{hosts.a}/authorize?{urlencode(query)}", allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    callback = through_provider(browser, hosts.a, start, hosts.email, PASSWORD)
    assert callback.startswith(hosts.redirect_uri), callback
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert params["state"] == query["state"], params
    return params["code"], verifier


def jwks(base: str) -> dict[str, Any]:
    response = requests.get(base + "/jwks", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return dict(response.json())


def kids(base: str) -> set[str]:
    return {key["kid"] for key in jwks(base)["keys"]}


def verified(hosts: Hosts, id_token: str, published_by: str) -> dict[str, Any]:
    """The claims of ``id_token``, verified with PyJWT against the JWKS of ``published_by``."""
    kid = jwt.get_unverified_header(id_token)["kid"]
    keys = [k for k in jwks(published_by)["keys"] if k["kid"] == kid]
    assert keys, f"{kid} is not in the JWKS of {published_by}"
    claims: dict[str, Any] = jwt.decode(
        id_token,
        jwt.PyJWK(keys[0]).key,
        algorithms=["RS256"],
        audience=hosts.client_id,
        issuer=hosts.a,
    )
    assert claims["sub"] == hosts.subject
    return claims


def redeem_on_b(hosts: Hosts) -> dict[str, Any]:
    code, verifier = sign_in_on_a(hosts)
    response = hosts.post(
        hosts.b,
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": hosts.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_both_hosts_publish_the_issuers_discovery_and_keys(hosts: Hosts) -> None:
    on_a = requests.get(hosts.a + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
    on_b = requests.get(hosts.b + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
    assert on_a.json() == on_b.json()
    assert on_b.json()["issuer"] == hosts.a
    assert kids(hosts.a) == kids(hosts.b)


def test_a_flow_crosses_hosts(hosts: Hosts) -> None:
    tokens = redeem_on_b(hosts)  # authorize, login, consent on A; token on B
    verified(hosts, tokens["id_token"], published_by=hosts.a)

    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    userinfo = requests.get(hosts.a + "/userinfo", headers=bearer, timeout=HTTP_TIMEOUT)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == hosts.subject

    refreshed = hosts.post(
        hosts.b, "/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    successor = refreshed.json()
    verified(hosts, successor["id_token"], published_by=hosts.a)
    # The rotated-out refresh token is used up on A too.
    reused = hosts.post(
        hosts.a, "/token", {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_a_token_revoked_on_a_is_inactive_on_b(hosts: Hosts) -> None:
    tokens = redeem_on_b(hosts)
    token = tokens["access_token"]
    before = hosts.post(hosts.b, "/introspect", {"token": token})
    assert before.status_code == 200 and before.json()["active"] is True, before.text

    revoked = hosts.post(hosts.a, "/revoke", {"token": token})
    assert revoked.status_code == 200, revoked.text

    after = hosts.post(hosts.b, "/introspect", {"token": token})
    assert after.status_code == 200 and after.json() == {"active": False}
    bearer = {"Authorization": "Bearer " + token}
    assert (
        requests.get(hosts.b + "/userinfo", headers=bearer, timeout=HTTP_TIMEOUT).status_code == 401
    )


def wait_until(condition: Any, what: str, seconds: float) -> float:
    """Poll ``condition`` until true; how long it took (fails after ``seconds``)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s: {what}"
        time.sleep(0.2)
    return time.monotonic() - started


def rotate(hosts: Hosts) -> dict[str, Any]:
    """``oidc-core keys rotate`` against the shared database, as an operator on A (no
    ``--force``: a next key is promoted only once every process can have published it)."""
    result: dict[str, Any] = json.loads(hosts.live.cli("keys", "rotate", "--json"))
    assert result["refused"] == [], result
    (step,) = result["rotated"]
    return step


def the_next_key(hosts: Hosts) -> dict[str, Any] | None:
    """The RS256 ``next`` key as ``oidc-core keys list`` shows it, if there is one."""
    rows: list[dict[str, Any]] = json.loads(hosts.live.cli("keys", "list", "--json"))
    return next((r for r in rows if r["alg"] == "RS256" and r["state"] == "next"), None)


def test_a_key_rotation_on_the_shared_database_is_honoured_by_both_hosts(hosts: Hosts) -> None:
    # Every process re-reads the keys after key_cache_seconds (plus a request to trigger it,
    # and one that may land on the other worker: a generous margin).
    bound = KEY_CACHE_SECONDS + 10
    upcoming = the_next_key(hosts)
    if upcoming is None:  # publish one first (a shared database may have one already)
        assert rotate(hosts)["promoted"] is None
        upcoming = the_next_key(hosts)
        assert upcoming is not None
    # The promotion waits until every process has had key_cache_seconds to read the next key
    # (counted from the end of the second of its created_at, which is rounded down).  Until
    # then a worker that read the keys just before it was published would not serve it while
    # others already sign with it: so the test waits, as an operator's second run does.
    time.sleep(max(0.0, upcoming["created_at"] + 1 + KEY_CACHE_SECONDS - time.time()))
    second = rotate(hosts)
    assert second["promoted"] == upcoming["kid"]
    new_current, next_key = second["promoted"], second["published"]
    assert new_current and next_key

    for host in (hosts.a, hosts.b):
        wait_until(lambda h=host: next_key in kids(h), f"{host} publishes the next key", bound)
        # whichever worker answers: each has read the keys since new_current was published
        assert new_current in kids(host)
    # Each host has two workers, each with its own key cache: they agree within the bound.
    wait_until(lambda: kids(hosts.a) == kids(hosts.b), "A and B publish the same keys", bound)

    # Within key_cache_seconds every worker of B signs with the promoted key; each ID token
    # B signs meanwhile verifies against A's JWKS (the retired key stays published).
    def b_signs_with_new_key() -> bool:
        tokens = redeem_on_b(hosts)
        verified(hosts, tokens["id_token"], published_by=hosts.a)
        return bool(jwt.get_unverified_header(tokens["id_token"])["kid"] == new_current)

    wait_until(b_signs_with_new_key, "B signs with the promoted key", bound)
    time.sleep(KEY_CACHE_SECONDS + 0.5)  # now every worker of both hosts has reloaded
    for _ in range(4):  # two workers per host: several requests reach both
        tokens = redeem_on_b(hosts)
        assert jwt.get_unverified_header(tokens["id_token"])["kid"] == new_current
        verified(hosts, tokens["id_token"], published_by=hosts.a)
        verified(hosts, tokens["id_token"], published_by=hosts.b)
