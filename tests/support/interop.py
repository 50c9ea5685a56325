"""What the relying-party library tests share: a trail of steps that says, on failure, which
client failed at which step and what the provider logged for that step's requests; the
browser on the provider's pages; tampered ID tokens.

Every response of the provider carries ``X-Request-Id``; its log lines carry the same id.
A :class:`Trail` hooks the ``requests`` sessions of a client library and of the browser,
keeps each response's id, and turns any exception raised inside ``with trail.step(...)`` into
an ``AssertionError`` naming the client and the step, followed by the provider's log lines of
the requests made during that step (the last, usually the failing one, first).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.support.live import HTTP_TIMEOUT, LiveProvider, through_provider

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
class Seen:
    method: str
    url: str
    status: int
    request_id: str


@dataclass
class Trail:
    """The requests one client library made, for the failure message of a step."""

    client: str
    live: LiveProvider = field(repr=False)
    seen: list[Seen] = field(default_factory=list, repr=False)

    def watch(self, session: requests.Session) -> requests.Session:
        """Record every response ``session`` receives; ``session`` itself."""
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        url = (response.url or "").split("?")[0]  # no codes or tokens in the message
        method = response.request.method or "?"
        request_id = response.headers.get("X-Request-Id", "")
        self.seen.append(Seen(method, url, response.status_code, request_id))

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = len(self.seen)
        try:
            yield
        except (Exception, pytest.fail.Exception) as exc:  # pytest.raises' "DID NOT RAISE" too
            raise AssertionError(self.report(name, self.seen[start:], exc)) from exc

    def report(self, name: str, seen: list[Seen], exc: BaseException) -> str:
        lines = [
            f"client {self.client!r}, step {name!r}, issuer {self.live.issuer}: "
            f"{type(exc).__name__}: {exc}"
        ]
        if not seen:
            lines.append("(no request reached the provider during this step)")
        for one in reversed(seen):
            lines.append(f"--- {one.method} {one.url} -> {one.status} [{one.request_id or '-'}]")
            logged = self.live.log_lines(one.request_id)
            lines.extend(f"    {line}" for line in logged or ["(no log line for this request)"])
        return "\n".join(lines)


@dataclass
class Account:
    email: str
    password: str
    subject: str


def new_account(live: LiveProvider, client: str) -> Account:
    email = f"{client}-{secrets.token_hex(6)}@example.com"
    return Account(email, PASSWORD, live.create_user(email, PASSWORD, f"{client} Tester"))


def browser(trail: Trail) -> requests.Session:
    """A new browser (cookie jar), its responses on the trail."""
    return trail.watch(requests.Session())


def sign_in(
    trail: Trail, authorization_url: str, account: Account, session: requests.Session | None = None
) -> str:
    """Play the browser from the authorization URL through the login and consent pages;
    the callback URL the provider sends it to (not followed)."""
    session = session or browser(trail)
    response = session.get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    return through_provider(session, trail.live.issuer, response, account.email, account.password)


def callback_params(callback: str, redirect_uri: str) -> dict[str, str]:
    """The query of a callback to ``redirect_uri`` (each parameter once)."""
    assert callback.startswith(redirect_uri + "?"), (callback, redirect_uri)
    parsed = parse_qs(urlsplit(callback).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), parsed
    return {k: v[0] for k, v in parsed.items()}


def prompt_none_without_session(trail: Trail, authorization_url: str) -> str:
    """A fresh browser (no session at the provider) on a ``prompt=none`` request; where the
    provider sends it: straight back to the RP, no page shown."""
    response = browser(trail).get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert response.status_code in (302, 303), (response.status_code, response.text[:300])
    location = response.headers["Location"]
    assert not location.startswith(trail.live.issuer + "/"), location
    return location


def unregistered_redirect(trail: Trail, authorization_url: str) -> requests.Response:
    """The provider's answer to a request with an unregistered redirect URI: checked to be
    its error page, with no redirect anywhere."""
    response = browser(trail).get(authorization_url, allow_redirects=False, timeout=HTTP_TIMEOUT)
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
