"""A small relying party: "Log in with oidc-core", then link to a local account once.

Start the provider with ``make serve`` (it prints the demo client's id and secret), then in a
second terminal:

    OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... .venv/bin/python examples/relying_party/app.py

and open http://127.0.0.1:9000/.  What it shows, in the order it happens:

1. ``/login`` sends the browser to the provider's authorization endpoint with a fresh
   ``state``, ``nonce`` and PKCE challenge, remembered in this browser's session.
2. ``/callback`` checks ``state`` and ``iss``, exchanges the code (client_secret_basic),
   verifies the ID token with PyJWT against the provider's JWKS, and asks UserInfo.
3. The identity (issuer, sub) is looked up among the links to local accounts.  The first
   time, ``/link`` asks for a local username and password once and stores the link; later
   logins go straight in.

Every URL of the provider comes from its discovery document, so the issuer may have a path
(``OIDC_ISSUER=http://127.0.0.1:8000/oidc``).  Settings, all environment variables:
``OIDC_ISSUER`` (default http://127.0.0.1:8000), ``OIDC_CLIENT_ID``, ``OIDC_CLIENT_SECRET``,
``RP_PORT`` (default 9000), ``RP_DATABASE`` (default var/relying_party.db).  Standard
library plus PyJWT; no framework, so that every step of the protocol is visible here.
wsgiref serves it, a thread per connection: a development server only.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.cookies
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import make_server

import jwt
from database import DEMO_ACCOUNTS, Database  # database.py, next to this file
from plumbing import (  # plumbing.py, next to this file
    Request,
    Response,
    ThreadingWSGIServer,
    csrf_field,
    csrf_ok,
    e,
    page,
    redirect,
    same,
)

ISSUER = os.environ.get("OIDC_ISSUER", "http://127.0.0.1:8000")
CLIENT_ID = os.environ["OIDC_CLIENT_ID"]
CLIENT_SECRET = os.environ["OIDC_CLIENT_SECRET"]
PORT = int(os.environ.get("RP_PORT", "9000"))
HOST = f"127.0.0.1:{PORT}"
REDIRECT_URI = f"http://{HOST}/callback"  # registered with the provider for this client
SCOPE = "openid profile email"
COOKIE = "rp_session"

db = Database(os.environ.get("RP_DATABASE", "var/relying_party.db"))


class LoginFailed(Exception):
    """The login cannot go on; the message is shown to the user."""


# The provider: everything from its discovery document


@functools.cache
def provider() -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery 1.0), fetched once."""
    metadata = fetch_json(ISSUER.rstrip("/") + "/.well-known/openid-configuration")
    # Discovery section 4.3: the document must name exactly the issuer we asked for.
    if metadata.get("issuer") != ISSUER:
        raise LoginFailed(f"discovery names issuer {metadata.get('issuer')!r}, not {ISSUER!r}")
    return metadata


@functools.cache
def signing_keys() -> jwt.PyJWKClient:
    """The provider's public keys (JWKS), cached; fetched again for a key id it has not seen."""
    return jwt.PyJWKClient(provider()["jwks_uri"])


def fetch_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """GET (or POST ``data`` to) a URL of the provider; its JSON answer."""
    if not url.startswith(("https://", "http://")):
        raise LoginFailed(f"refusing to fetch {url!r}")
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read(300).decode("utf-8", "replace")
        raise LoginFailed(f"{url} answered {error.code}: {detail}") from None
    except OSError as error:
        raise LoginFailed(f"cannot reach {url}: {error}") from None


# The login


def login(request: Request) -> Response:
    """Send the browser to the provider, with three one-time values kept in its session."""
    # state: the callback must answer *this* browser's request (RFC 6749 section 10.12),
    # so nobody can make the browser finish a login they started (login CSRF).
    state = secrets.token_urlsafe(32)
    # nonce: comes back inside the signed ID token, which ties the token to this request:
    # an ID token stolen from another login is refused (OpenID Connect Core 3.1.2.1).
    nonce = secrets.token_urlsafe(32)
    # PKCE (RFC 7636): only the hash of the verifier travels through the browser; the code
    # is worthless without the verifier, which goes straight to the token endpoint.
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    request.session["pending"] = {"state": state, "nonce": nonce, "verifier": verifier}
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    return redirect(provider()["authorization_endpoint"] + "?" + query)


def callback(request: Request) -> Response:
    """The provider sends the browser back here with a code (or an error)."""
    pending = request.session.get("pending")
    if pending is None or not same(request.query.get("state", ""), pending["state"]):
        raise LoginFailed("unknown state: this browser did not start this login")
    del request.session["pending"]  # one answer per request: the state is used up
    # iss (RFC 9207): the response must come from the provider we sent the browser to.
    # Without it, a client of several providers can be tricked into sending a code from
    # one to another ("mix-up").  Ours advertises iss, so a missing one is refused too.
    if request.query.get("iss") != provider()["issuer"]:
        raise LoginFailed("the response does not come from the expected issuer")
    if "error" in request.query:
        raise LoginFailed(
            f"the provider said {request.query['error']}: "
            + request.query.get("error_description", "")
        )
    tokens = exchange_code(request.query.get("code", ""), pending["verifier"])
    claims = verify_id_token(tokens["id_token"], pending["nonce"])
    userinfo = fetch_json(
        provider()["userinfo_endpoint"],
        headers={"Authorization": "Bearer " + tokens["access_token"]},
    )
    if userinfo.get("sub") != claims["sub"]:  # OpenID Connect Core 5.3.2
        raise LoginFailed("UserInfo is about another user than the ID token")
    identity = {
        "issuer": claims["iss"],
        "sub": claims["sub"],
        "claims": claims,
        "userinfo": userinfo,
    }
    account = db.linked_account(claims["iss"], claims["sub"])
    if account is None:
        request.session["unlinked"] = identity
        return redirect("/link")
    return sign_in(request, account["username"], identity)


def exchange_code(code: str, verifier: str) -> dict[str, Any]:
    """The token request (RFC 6749 section 4.1.3), client_secret_basic."""
    # client_secret_basic: id and secret are form-encoded, then go as HTTP Basic credentials.
    credentials = urllib.parse.quote_plus(CLIENT_ID) + ":" + urllib.parse.quote_plus(CLIENT_SECRET)
    body = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
    )
    tokens = fetch_json(
        provider()["token_endpoint"],
        data=body.encode(),
        headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()},
    )
    if "id_token" not in tokens:
        raise LoginFailed("the token response has no ID token")
    return dict(tokens)


def verify_id_token(id_token: str, nonce: str) -> dict[str, Any]:
    """Signature, issuer, audience, expiry and nonce (OpenID Connect Core 3.1.3.7)."""
    try:
        key = signing_keys().get_signing_key_from_jwt(id_token)  # by the token's "kid"
        claims = jwt.decode(
            id_token,
            key.key,
            # Pinned: never let the token's own header choose the algorithm ("none", HS256).
            algorithms=["RS256"],
            audience=CLIENT_ID,
            issuer=provider()["issuer"],
            options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
        )
    except jwt.PyJWTError as error:
        raise LoginFailed(f"the ID token is not valid: {error}") from None
    if not same(claims["nonce"], nonce):
        raise LoginFailed("the ID token was not issued for this login (nonce)")
    return dict(claims)


# Account linking: (issuer, sub) -> a local account of this relying party


def link_form(request: Request, error: str = "") -> Response:
    identity = request.session.get("unlinked")
    if identity is None:
        return redirect("/")
    who = identity["userinfo"].get("email") or identity["sub"]
    return page(
        "Link your account",
        f"""<p>You signed in at <code>{e(identity["issuer"])}</code> as <b>{e(who)}</b>
        (sub <code>{e(identity["sub"])}</code>). This application does not know that identity
        yet. Sign in with your account <em>here</em> once to link them; next time
        "Log in with ..." takes you straight in.</p>
        {f'<p class="error">{e(error)}</p>' if error else ""}
        <form method="post" action="/link">
          {csrf_field(request)}
          <label>Username <input name="username" autocomplete="username" required></label>
          <label>Password <input name="password" type="password"
                 autocomplete="current-password" required></label>
          <button>Link and sign in</button>
        </form>""",
        status="403 Forbidden" if error else "200 OK",
    )


def link(request: Request) -> Response:
    identity = request.session.get("unlinked")
    if identity is None:
        return redirect("/")
    username = request.form.get("username", "")
    account = db.authenticate(username, request.form.get("password", ""))
    if account is None:
        return link_form(request, error="Wrong username or password. Nothing was linked.")
    db.link(identity["issuer"], identity["sub"], account["username"])
    return sign_in(request, account["username"], identity)


def unlink(request: Request) -> Response:
    identity = request.session.get("identity")
    if identity is not None:
        db.unlink(identity["issuer"], identity["sub"])
    request.session.clear()
    return redirect("/")


def sign_in(request: Request, username: str, identity: dict[str, Any]) -> Response:
    request.session.clear()
    request.session.update(username=username, identity=identity)
    # A new cookie value on sign-in: a session id planted in the browser before is worthless.
    request.new_session_id = True
    return redirect("/")


def logout(request: Request) -> Response:
    # Signs out of this application only: the provider keeps its own session, so the next
    # "Log in with ..." may not ask for the provider's password again.
    request.session.clear()
    return redirect("/")


# Pages


def home(request: Request) -> Response:
    username = request.session.get("username")
    if username is None:
        return page(
            "Demo relying party",
            f"""<p>This application has its own accounts. Their owners can also log in with
            the OpenID Provider at <code>{e(ISSUER)}</code>.</p>
            <form method="get" action="/login">
              <button>Log in with oidc-core ({e(ISSUER)})</button>
            </form>""",
        )
    account = db.account(username)
    identity = request.session["identity"]
    return page(
        "Signed in",
        f"""<p>You are the local account <b>{e(username)}</b> ({e(account["display_name"])}),
        linked to sub <code>{e(identity["sub"])}</code> at <code>{e(identity["issuer"])}</code>.
        </p>
        <h2>ID token claims (verified)</h2><pre>{e(json.dumps(identity["claims"], indent=2))}</pre>
        <h2>UserInfo</h2><pre>{e(json.dumps(identity["userinfo"], indent=2))}</pre>
        <form method="post" action="/logout">{csrf_field(request)}<button>Sign out</button></form>
        <form method="post" action="/unlink">{csrf_field(request)}
          <button>Unlink this identity and sign out</button></form>""",
    )


# The WSGI app: routes and the session cookie (plumbing.py: requests, responses, CSRF)


ROUTES: dict[tuple[str, str], Callable[[Request], Response]] = {
    ("GET", "/"): home,
    ("GET", "/login"): login,
    ("GET", "/callback"): callback,
    ("GET", "/link"): link_form,
    ("POST", "/link"): link,
    ("POST", "/logout"): logout,
    ("POST", "/unlink"): unlink,
}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("HTTP_HOST") != HOST:
        # The session cookie belongs to one host name, and the provider sends the browser
        # back to the redirect URI's: stay on that one (127.0.0.1, not localhost).
        response = redirect(f"http://{HOST}/")
        start_response(response.status, response.headers)
        return [b""]
    request = read_request(environ)
    handler = ROUTES.get((request.method, request.path))
    try:
        if handler is None:
            response = page("Not found", "<p><a href='/'>Home</a></p>", "404 Not Found")
        elif request.method == "POST" and not csrf_ok(request):
            response = page(
                "Forbidden", "<p>This form did not come from this page.</p>", "403 Forbidden"
            )
        else:
            response = handler(request)
    except LoginFailed as error:
        body = f"<p>{e(error)}</p><p><a href='/'>Back</a></p>"
        response = page("Login failed", body, "400 Bad Request")
    headers = [*response.headers, ("Cache-Control", "no-store"), *save_session(request)]
    headers.append(("Content-Type", "text/html; charset=utf-8"))
    start_response(response.status, headers)
    return [response.body.encode()]


def read_request(environ: dict[str, Any]) -> Request:
    body = b""
    if environ["REQUEST_METHOD"] == "POST":
        body = environ["wsgi.input"].read(min(int(environ.get("CONTENT_LENGTH") or 0), 65536))
    cookies = http.cookies.SimpleCookie(environ.get("HTTP_COOKIE", ""))
    session_id = cookies[COOKIE].value if COOKIE in cookies else None
    session = db.load_session(session_id) if session_id else None
    return Request(
        method=environ["REQUEST_METHOD"],
        path=environ.get("PATH_INFO", "/"),
        query=dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""))),
        form=dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))),
        session=session if session is not None else {},
        session_id=session_id if session is not None else None,
    )


def save_session(request: Request) -> list[tuple[str, str]]:
    """Store the session; the Set-Cookie header when its id is new or gone."""
    # HttpOnly: page scripts cannot read it.  SameSite=Lax: other sites' forms and
    # frames do not carry it, but the provider's redirect back to /callback (a top-level
    # GET) does.  Served over https, add "Secure".
    attributes = "Path=/; HttpOnly; SameSite=Lax"
    if not request.session:
        if request.session_id is None:
            return []
        db.delete_session(request.session_id)
        return [("Set-Cookie", f"{COOKIE}=; Max-Age=0; {attributes}")]
    headers = []
    if request.session_id is None or request.new_session_id:
        if request.session_id is not None:
            db.delete_session(request.session_id)
        request.session_id = secrets.token_urlsafe(32)
        headers.append(("Set-Cookie", f"{COOKIE}={request.session_id}; {attributes}"))
    db.save_session(request.session_id, request.session)
    return headers


def main() -> None:
    db.create_demo_accounts()
    print(f"demo relying party on http://{HOST}/ for the provider {ISSUER}", flush=True)
    for username, _name, password in DEMO_ACCOUNTS:
        print(f"local account {username}, password {password}", flush=True)
    make_server("127.0.0.1", PORT, app, server_class=ThreadingWSGIServer).serve_forever()


if __name__ == "__main__":
    main()
