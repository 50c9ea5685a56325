"""The password login with and without an authenticator app's code, CPU per login (issue 16).

Target: a login with TOTP costs at most 5 % more CPU than the password login alone.  Both
run in this one process, through the provider's WSGI app on SQLite with the production
password settings (argon2id), the same way: authorization request, login page, password,
and (with TOTP) the second-factor page it answers with and the code, up to the redirect
with the code.  Each login is a new browser; each TOTP user's code is of a later time
step than its last (a real phone's).  The CPU counted (``time.process_time``) is the
server's: the time spent inside the provider's WSGI app, not in the test client.  The two
kinds take turns, one login each; the medians of the logins' CPU are compared.

    .venv/bin/python bench/login_mfa.py [--users 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pyotp
import webtest

from oidc_core import Provider, Settings
from oidc_core.keys import create_key_if_missing
from oidc_core.records import ClientFields
from oidc_core.storage import Storage

ISSUER = "https://op.example"
CALLBACK = "https://rp.example/cb"
PASSWORD = "a benchmark's long password"
TARGET = 1.05  # a TOTP login's CPU over a password login's


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def _hidden(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


class ServerClock:
    """The provider as a WSGI app that counts the CPU time spent inside it (the server's
    share of a login, without the test client's)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cpu = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        start = time.process_time()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.cpu += time.process_time() - start


class Logins:
    def __init__(self, database: Path, users: int) -> None:
        settings = Settings(issuer=ISSUER, database_url=f"sqlite:///{database}")
        storage = Storage(settings.database_url)
        storage.upgrade()
        create_key_if_missing(storage)
        self.provider = provider = Provider(settings, storage=storage)
        self.server = ServerClock(provider)
        fields = ClientFields(name="Bench", redirect_uris=(CALLBACK,), skip_consent=True)
        client, _ = provider.storage.clients.create(fields)
        self.client_id = client.client_id
        password_hash = provider.passwords.hash(PASSWORD)
        self.plain = [self._user(f"plain{n}@example.com", password_hash) for n in range(users)]
        self.secrets: dict[str, str] = {}
        self.last_step: dict[str, int] = {}
        for n in range(users):
            email = f"totp{n}@example.com"
            user_id = provider.storage.users.create(email, password_hash).id
            self.secrets[email] = secret = pyotp.random_base32(32)
            self.last_step[email] = int(time.time()) // 30 - 2
            provider.storage.factors.add_totp(user_id, secret, self.last_step[email])

    def _user(self, email: str, password_hash: str) -> str:
        self.provider.storage.users.create(email, password_hash)
        return email

    def login(self, email: str) -> None:
        app = webtest.TestApp(
            self.server, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
        )
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": CALLBACK,
                "state": "s",
                "nonce": "n",
            }
        )
        page = app.get(app.get("/authorize?" + query).headers["Location"])
        fields = {**_hidden(page.text), "email": email, "password": PASSWORD}
        response = app.post("/login", fields)
        if email in self.secrets:
            step_page = response  # the second-factor page, in answer to the password
            step = max(self.last_step[email] + 1, int(time.time()) // 30 - 1)
            self.last_step[email] = step
            code = pyotp.TOTP(self.secrets[email]).generate_otp(step)
            action = urlsplit(html.unescape(_ACTION.search(step_page.text).group(1)))  # type: ignore[union-attr]
            step_fields = {**_hidden(step_page.text), "code": code}
            response = app.post(action.path + "?" + action.query, step_fields)
        location = response.headers["Location"]
        if not location.startswith(CALLBACK + "?code="):
            raise SystemExit(f"login of {email} did not end with a code: {location}")

    def cpu_of_login(self, email: str) -> float:
        """Milliseconds of the server's CPU for one login of ``email``."""
        start = self.server.cpu
        self.login(email)
        return (self.server.cpu - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=40, help="logins per kind per round")
    parser.add_argument("--rounds", type=int, default=3, help="at most 3: one code per step")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        logins = Logins(Path(tmp) / "bench.db", args.users)
        logins.login(logins.plain[0])  # warm-up: templates, keys, prepared statements
        password: list[float] = []
        with_totp: list[float] = []
        for _ in range(min(args.rounds, 3)):
            # one of each in turn, so that the machine's load weighs on both alike
            for plain, totp in zip(logins.plain, logins.secrets, strict=True):
                password.append(logins.cpu_of_login(plain))
                with_totp.append(logins.cpu_of_login(totp))
    plain_ms, totp_ms = statistics.median(password), statistics.median(with_totp)
    ratio = totp_ms / plain_ms
    verdict = "pass" if ratio <= TARGET else "FAIL"
    print(
        f"login server CPU (in process, SQLite): password {plain_ms:.2f} ms, "
        f"password + TOTP {totp_ms:.2f} ms: {ratio:.3f} x "
        f"(target <= {TARGET:.2f} x): {verdict}"
    )
    print(
        f"{len(password)} logins of each kind, one of each in turn; quartiles (ms): password "
        + ", ".join(f"{v:.2f}" for v in statistics.quantiles(password))
        + "; TOTP "
        + ", ".join(f"{v:.2f}" for v in statistics.quantiles(with_totp))
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
