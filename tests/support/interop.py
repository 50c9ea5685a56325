"""What the Python relying-party library tests share: the browser on the provider's pages,
the provider's answers to the failure cases, tampered ID tokens, the libraries' versions.

Each test gives a :class:`~tests.support.trace.Trace` its library's ``requests`` sessions
(``trace.watch``) and names its steps (``trace.step``): a failure names the library and the
step, with the provider's log lines of each request of that step.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.support.live import HTTP_TIMEOUT, LiveProvider, free_port, through_provider
from tests.support.trace import Trace

PASSWORD = "a long and correct password for interop"
# The relying-party libraries tested (docs/tested-with.md), and the JOSE libraries they use.
LIBRARIES = ("Authlib", "joserfc", "oic", "pyjwkest", "requests-oauthlib", "oauthlib", "PyJWT")
OFFLINE_SCOPE = "openid profile email offline_access"


def relying_party_libraries() -> str:
    """Their installed versions, for pytest's header (docs/tested-with.md lists them)."""
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return "relying-party libraries: " + ", ".join(versions)


@dataclass
class Account:
    email: str
    password: str
    subject: str


def new_account(live: LiveProvider, client: str) -> Account:
    email = f"{client}-{secrets.token_hex(6)}@example.com"
    return Account(email, PASSWORD, live.create_user(email, PASSWORD, f"{client} Tester"))


@dataclass
class RP:
    """A confidential client of ``live`` for one library's tests, and a user to sign in."""

    live: LiveProvider
    client_id: str
    client_secret: str
    redirect_uri: str
    account: Account

    @property
    def metadata(self) -> dict[str, Any]:
        return self.live.metadata


def register(live: LiveProvider, library: str, callback_scheme: str = "http") -> RP:
    """A client allowed refresh tokens (``OFFLINE_SCOPE``), with a loopback callback nobody
    listens on (the test reads the redirect, it never follows it), and a new user."""
    redirect_uri = f"{callback_scheme}://127.0.0.1:{free_port()}/callback"
    client_id, client_secret = live.create_client(
        f"{library} interop",
        redirect_uri,
        "--grant-type",
        "refresh_token",
        "--scope",
        OFFLINE_SCOPE,
    )
    return RP(live, client_id, client_secret, redirect_uri, new_account(live, library.lower()))


def trace_of(name: str, package: str, live: LiveProvider) -> Trace:
    """A trace of one library against ``live``, named with its installed version."""
    assert live.log is not None
    return Trace(f"{name} {metadata.version(package)}", live.log)


def sign_in(trace: Trace, live: LiveProvider, authorization_url: str, account: Account) -> str:
    """A new browser from the authorization URL through the login and consent pages; the
    callback URL the provider sends it to (not followed)."""
    browser = trace.session()
    response = browser.get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    return through_provider(browser, live.issuer, response, account.email, account.password)


def callback_params(callback: str, redirect_uri: str) -> dict[str, str]:
    """The query of a callback to ``redirect_uri`` (each parameter once)."""
    assert callback.startswith(redirect_uri + "?"), (callback, redirect_uri)
    parsed = parse_qs(urlsplit(callback).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def prompt_none_without_session(trace: Trace, live: LiveProvider, authorization_url: str) -> str:
    """A fresh browser (no session at the provider) on a ``prompt=none`` request; where the
    provider sends it: straight back to the RP, no page shown."""
    response = trace.session().get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert response.status_code in (302, 303), (response.status_code, response.text[:300])
    location = response.headers["Location"]
    assert not location.startswith(live.issuer + "/"), location
    return location


def unregistered_redirect(trace: Trace, authorization_url: str) -> requests.Response:
    """The provider's answer to a request with an unregistered redirect URI: checked to be
    its error page, with no redirect anywhere."""
    response = trace.session().get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert response.status_code == 400, (response.status_code, response.headers)
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert "not registered" in response.text
    return response


def with_params(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tampered(id_token: str) -> dict[str, str]:
    """Forgeries of a real ID token, each of which a verifying library must reject: a
    signature with one bit flipped; the payload's ``sub`` changed under the original
    signature; ``alg`` set to ``none`` with no signature."""
    header, payload, signature = id_token.split(".")
    raw = bytearray(_unb64(signature))
    raw[len(raw) // 2] ^= 0x01
    claims = json.loads(_unb64(payload))
    claims["sub"] = "someone-else"
    forged_payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    none_header = {**json.loads(_unb64(header)), "alg": "none"}
    return {
        "signature": f"{header}.{payload}.{_b64(bytes(raw))}",
        "payload": f"{header}.{forged_payload}.{signature}",
        "alg none": f"{_b64(json.dumps(none_header).encode())}.{payload}.",
    }
