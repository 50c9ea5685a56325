"""The baselines of bench/run.py, served by one gunicorn by path (``PATH_INFO``).

* ``/``: raw WSGI answering a small JSON body: the hello-world every ratio is taken to;
* ``/webob-hello``: the same body through ``webob.Request`` and ``webob.Response``;
* ``/frame``: what ``oidc_core.provider.Provider.handle`` and ``__call__`` do around every
  endpoint, with no endpoint: WebOb, the size limits, the request id, the metrics of the
  request (multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set, as for the provider),
  the access line through logging as ``oidc-core serve`` configures it, and an answer with
  the headers and the size of the provider's JWK Set;
* ``/token-floor``: the least a token request can cost on this stack (bench/token_floor.py),
  on the provider's database.

Only the frame's own cost separates ``/frame`` from ``/``, so discovery over the frame says
what the endpoints themselves cost (``bench/README.md``, "What the floors say").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import token_floor
from webob import Request, Response

from oidc_core import jose, network, params, responses
from oidc_core import logging as request_logs
from oidc_core.cors import PUBLIC
from oidc_core.endpoints.discovery import PUBLIC_CACHE
from oidc_core.metrics import Metrics
from oidc_core.settings import Settings

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

BODY = b'{"hello":"world"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def _webob_hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    Request(environ)  # the provider wraps every environ; the wrapper itself is the cost here
    response = Response(body=BODY, headerlist=[("Content-Type", "application/json")], charset=None)
    return response(environ, start_response)  # type: ignore[no-any-return]


# -- the provider's frame --------------------------------------------------------------


def _jwk_set_body() -> bytes:
    """A JWK Set like the benchmark provider's /jwks: one RSA-2048 and one P-256 key,
    serialized as ``KeyRing`` serializes it (new keys each worker: only the size counts)."""
    keys = []
    for alg in ("RS256", "ES256"):
        pem = jose.generate_private_pem(alg)
        keys.append(jose.load_signing_key(pem, alg, jose.key_id(pem)))
    return json.dumps(jose.jwk_set(keys), separators=(",", ":")).encode()


SETTINGS = Settings()  # the defaults: the limits the benchmark provider checks
TRUSTED_PROXIES = network.parse_networks(SETTINGS.trusted_proxies)
JWKS_BODY = _jwk_set_body()
request_logs.configure()  # as the standalone server (adapters/standalone.py) does
METRICS = Metrics()


def _client_address(request: Request) -> str:
    return network.client_address(request, TRUSTED_PROXIES)


def _frame(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``Provider.__call__`` and ``handle`` around the JWK Set's answer, minus the routing,
    the storage and the keys (the endpoint's part)."""
    request = Request(environ)
    request.request_body_tempfile_limit = SETTINGS.max_body_bytes
    request_id = request_logs.request_id_for(request.headers.get("X-Request-Id"))
    context = request_logs.REQUEST_ID.set(request_id)
    started = time.perf_counter()
    try:
        params.check_header_size(environ, SETTINGS.max_header_bytes)
        params.check_url_length(environ, SETTINGS.max_url_length)
        params.check_body_size(request, SETTINGS.max_body_bytes)
        response = responses.json_body_response(JWKS_BODY, cache=PUBLIC_CACHE, headers=PUBLIC)
        response.headers["X-Request-Id"] = request_id
        elapsed = time.perf_counter() - started
        METRICS.request_done("jwks", response.status_int, elapsed)
        request_logs.log_access(request, response.status_int, elapsed, _client_address)
    finally:
        request_logs.REQUEST_ID.reset(context)
    return response(environ, start_response)  # type: ignore[no-any-return]


def _not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


BASELINES: dict[str, WsgiApp] = {
    "/webob-hello": _webob_hello,
    "/frame": _frame,
    "/token-floor": token_floor.app,
}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path != "/":  # hello-world itself pays one comparison for the other baselines
        return BASELINES.get(path, _not_found)(environ, start_response)
    start_response("200 OK", HEADERS)
    return [BODY]
