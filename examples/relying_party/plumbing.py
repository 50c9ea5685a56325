"""The relying party example's WSGI plumbing: requests, responses, pages and CSRF fields.

app.py (next to this file) holds the protocol and the routes; what is here has nothing of
OpenID Connect in it: the request and response an app.py handler takes and returns, an HTML
page around a body, escaping, a constant-time comparison, the anti-forgery field every POST
form carries, and wsgiref's server with a thread per connection.
"""

from __future__ import annotations

import hmac
import html
import secrets
import socketserver
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

# Requests and responses


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    session: dict[str, Any]  # this browser's session, saved after the response
    session_id: str | None = None
    new_session_id: bool = False


@dataclass
class Response:
    status: str
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)


def redirect(location: str) -> Response:
    return Response("303 See Other", headers=[("Location", location)])


# Pages and forms


def page(title: str, body: str, status: str = "200 OK") -> Response:
    text = f"""<!doctype html><html lang="en"><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{e(title)}</title>
    <style>body {{ font-family: sans-serif; max-width: 46rem; margin: 2rem auto; }}
    label {{ display: block; margin: .5rem 0; }} form {{ margin: 1rem 0; }}
    pre {{ background: #f4f4f4; padding: .5rem; overflow: auto; }} .error {{ color: #b00; }}
    </style><h1>{e(title)}</h1>{body}"""
    return Response(status, text)


def e(value: object) -> str:
    """Escape for HTML: every value from outside goes through here."""
    return html.escape(str(value))


def same(given: str, expected: str) -> bool:
    """Compare secrets in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def csrf_field(request: Request) -> str:
    """A hidden field with this session's anti-forgery token, for every POST form."""
    token = request.session.setdefault("csrf", secrets.token_urlsafe(32))
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    return expected is not None and same(request.form.get("csrf_token", ""), expected)


# The server


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, a thread per connection.  On its own it answers one connection at a
    time: a connection the browser opened ahead and left idle would hold up the next."""

    daemon_threads = True  # Ctrl-C stops the server without waiting for idle connections
