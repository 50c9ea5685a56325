"""A development server: the standard library's ``wsgiref``, one thread per connection.

::

    from oidc_adapters.devserver import ThreadingWSGIServer, serve

    serve(application, "127.0.0.1", 8000)  # until Ctrl-C
    bottle.run(app, host="127.0.0.1", port=8080, server_class=ThreadingWSGIServer)

``wsgiref.simple_server.make_server`` alone answers one connection at a time, and waits for
a connection's request line before it accepts the next.  Browsers open connections before
they need them and leave some idle, so such a server sits waiting on a socket that sends
nothing while a relying party's server-side token request waits in the listen backlog
until it times out.  With a thread per connection an idle socket costs only its thread.

The provider is safe to call from several threads (as under gunicorn's ``gthread``
workers).  For development only: in production run the application under gunicorn
(``docs/mounting.md``).
"""

from __future__ import annotations

import socketserver
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer, make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """``wsgiref``'s server, each connection in a thread of its own."""

    daemon_threads = True  # Ctrl-C stops the server without waiting for idle connections


def serve(app: WSGIApp, host: str, port: int) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted."""
    with make_server(host, port, app, server_class=ThreadingWSGIServer) as server:
        server.serve_forever()
