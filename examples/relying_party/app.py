"""A minimal relying party for trying the demo provider in a browser.

Run the provider with ``make serve`` (it prints the demo client's id and secret), then:

    OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... .venv/bin/python examples/relying_party/app.py

and open http://127.0.0.1:9000/. It sends you through the authorization code flow with
PKCE, state and nonce, exchanges the code (client_secret_basic), verifies the ID token
against the provider's JWKS with PyJWT, and shows the claims and the UserInfo response.
Standard library plus PyJWT (installed with the test extra).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
import urllib.parse
import urllib.request
from wsgiref.simple_server import make_server

import jwt

ISSUER = os.environ.get("OIDC_ISSUER", "http://127.0.0.1:8000")
CLIENT_ID = os.environ["OIDC_CLIENT_ID"]
CLIENT_SECRET = os.environ["OIDC_CLIENT_SECRET"]
REDIRECT_URI = "http://127.0.0.1:9000/callback"
PENDING: dict[str, tuple[str, str]] = {}  # state -> (nonce, code_verifier); one demo user


def fetch_json(url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"refusing to fetch {url!r}")
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:
        return {"http_status": error.code, **json.load(error)}


def page(start_response, status: str, body: str, headers: list | None = None):
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), *(headers or [])])
    return [f"<!doctype html><title>Demo RP</title><body>{body}</body>".encode()]


def app(environ, start_response):
    metadata = fetch_json(ISSUER + "/.well-known/openid-configuration")
    path = environ["PATH_INFO"]
    if path == "/":
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        PENDING[state] = (nonce, verifier)
        query = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "response_type": "code",
                "scope": "openid profile email",
                "redirect_uri": REDIRECT_URI,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        start_response(
            "302 Found", [("Location", metadata["authorization_endpoint"] + "?" + query)]
        )
        return [b""]
    if path != "/callback":
        return page(start_response, "404 Not Found", "<p>Not found</p>")
    params = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    if params.get("iss") != metadata["issuer"] or params.get("state") not in PENDING:
        return page(start_response, "400 Bad Request", "<p>Unexpected issuer or state.</p>")
    nonce, verifier = PENDING.pop(params["state"])
    if "error" in params:
        return page(start_response, "200 OK", f"<p>Error: {html.escape(params['error'])}</p>")
    basic = base64.b64encode(
        f"{urllib.parse.quote_plus(CLIENT_ID)}:{urllib.parse.quote_plus(CLIENT_SECRET)}".encode()
    ).decode()
    body = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
    ).encode()
    tokens = fetch_json(metadata["token_endpoint"], body, {"Authorization": "Basic " + basic})
    if "id_token" not in tokens:
        return page(
            start_response, "200 OK", f"<pre>{html.escape(json.dumps(tokens, indent=2))}</pre>"
        )
    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=metadata["issuer"],
    )
    if claims.get("nonce") != nonce:
        return page(start_response, "400 Bad Request", "<p>Nonce mismatch.</p>")
    userinfo = fetch_json(
        metadata["userinfo_endpoint"], headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    return page(
        start_response,
        "200 OK",
        "<h1>Signed in</h1><h2>ID token (verified)</h2><pre>"
        + html.escape(json.dumps(claims, indent=2))
        + "</pre><h2>UserInfo</h2><pre>"
        + html.escape(json.dumps(userinfo, indent=2))
        + "</pre><a href='/'>Again</a>",
    )


if __name__ == "__main__":
    print("demo relying party on http://127.0.0.1:9000/")
    make_server("127.0.0.1", 9000, app).serve_forever()
