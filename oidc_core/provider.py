"""The Provider: one WSGI application serving every endpoint of the OP.

``Provider(settings)`` wires storage, keys, the oauthlib server and the pages.  Call it as a
WSGI app (or use ``provider.wsgi_app``); adapters only mount it.  Routes are matched on
``PATH_INFO``; every URL the provider publishes derives from ``settings.issuer``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from webob import Request, Response

from . import cors, network, responses
from .account import dispatch as account_pages
from .accounts import Accounts, AccountSource, DatabaseAccounts, HostLogin
from .admin import api, console
from .admin.service import ClientAdmin
from .backchannel import Sender
from .endpoints import authorize, discovery, introspection, revocation, token, userinfo
from .endpoints.end_session import end_session
from .errors import PageError, ProviderError, StorageUnavailable
from .interactions import consent, login
from .interactions.browser import BrowserSessions
from .keys import KeyRing
from .oauth.server import OAuthServer
from .oauth.validator import Validator
from .params import check_body_size
from .passwords import PasswordService
from .settings import Settings
from .storage import Storage, StorageError
from .ui import render

log = logging.getLogger(__name__)

Handler = Callable[["Provider", Request], Response]

# path -> (handler, answers in HTML?).  The ".php" aliases are the paths relying parties
# configured for the reference billing system.
ROUTES: dict[str, tuple[Handler, bool]] = {
    "/.well-known/openid-configuration": (discovery.discovery, False),
    "/oauth/openid-configuration.php": (discovery.discovery, False),
    "/jwks": (discovery.jwks, False),
    "/oauth/certs.php": (discovery.jwks, False),
    "/authorize": (authorize.authorize, True),
    "/oauth/authorize.php": (authorize.authorize, True),
    "/token": (token.token, False),
    "/oauth/token.php": (token.token, False),
    "/userinfo": (userinfo.userinfo, False),
    "/oauth/userinfo.php": (userinfo.userinfo, False),
    "/revoke": (revocation.revoke, False),
    "/introspect": (introspection.introspect, False),
    "/login": (login.login, True),
    "/consent": (consent.consent, True),
    "/end_session": (end_session, True),
}


def _prefix_route(path: str) -> tuple[Handler, bool] | None:
    """The administration areas and the account pages own everything under their prefix."""
    if path.startswith("/admin/api/"):
        return api.dispatch, False
    if path == "/admin" or path.startswith("/admin/"):
        return console.dispatch, True
    if path == "/account" or path.startswith("/account/"):
        return account_pages.dispatch, True
    return None


class Provider:
    """An OpenID Connect Provider as a WSGI application."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage | None = None,
        *,
        accounts: AccountSource | None = None,
        host_login: HostLogin | None = None,
    ) -> None:
        """``accounts``: a host's own account source (default: the ``oidc_user`` table);
        ``host_login``: the host's signed-in user for a request (``docs/hosting.md``)."""
        self.settings = settings
        self.storage = storage or Storage(settings.database_url, echo=settings.sql_echo)
        self.keys = KeyRing(self.storage, settings)
        self.passwords = PasswordService(settings)
        self.accounts = Accounts(
            self.storage, accounts or DatabaseAccounts(self.storage, self.passwords), host_login
        )
        self.browser = BrowserSessions(settings, self.storage)
        self.clients = ClientAdmin(self.storage)
        self.server = OAuthServer(
            Validator(settings, self.storage, self.keys, self.accounts), settings.access_token_ttl
        )
        self._trusted_proxies = network.parse_networks(settings.trusted_proxies)

    # -- helpers used by handlers -------------------------------------------------------

    def url(self, path: str) -> str:
        """The absolute URL of one of our paths, under the issuer."""
        return self.settings.issuer + path

    def site_url(self, uri: str) -> str:
        """A path on this site (``/modules/servers/cpanel/logo.png``) made absolute against
        the issuer's origin, not its path: it names a file of the site the provider is
        mounted in.  Anything else is returned as it is."""
        if uri.startswith("/") and not uri.startswith("//"):
            parts = urlsplit(self.settings.issuer)
            return f"{parts.scheme}://{parts.netloc}{uri}"
        return uri

    @cached_property
    def backchannel(self) -> Sender:
        """Back-Channel Logout deliveries; its thread starts with the first sign-out."""
        return Sender(self.storage)

    @cached_property
    def metadata(self) -> dict[str, Any]:
        return discovery.metadata(self)

    def client_address(self, request: Request) -> str:
        """The client's IP address (``X-Forwarded-For`` only from trusted proxies)."""
        return network.client_address(request, self._trusted_proxies)

    def render(self, template: str, **context: Any) -> str:
        return render.render(template, static_url=self.url("/static"), **context)

    def error_page(self, message: str, status: int = 400, error_code: str = "") -> Response:
        titles = {
            403: "Not allowed",
            404: "Not found",
            405: "Method not allowed",
            413: "Request too large",
            414: "Request too long",
            503: "Temporarily unavailable",
        }
        page = self.render(
            "error.html",
            title=titles.get(status, "Something went wrong"),
            message=message,
            error_code=error_code,
        )
        response = responses.html_page(page, status)
        if status == 503:
            response.headers["Retry-After"] = "5"
        return response

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        # Keep every body we accept in memory: WebOb spools bodies over 10 KiB to a
        # temporary file that nothing closes (a ResourceWarning per large request).
        request.request_body_tempfile_limit = self.settings.max_body_bytes
        response = self.handle(request)
        return response(environ, start_response)  # type: ignore[no-any-return]

    @property
    def wsgi_app(self) -> Provider:
        return self

    def handle(self, request: Request) -> Response:
        try:
            path = request.path_info or "/"  # the bare mount prefix (/oidc) is our root
        except UnicodeDecodeError:  # a percent-encoded path that is not UTF-8
            return self.error_page("There is nothing at this address.", 404)
        route = ROUTES.get(path) or _prefix_route(path)
        if route is None:
            return self._other(request, path)
        handler, html = route
        endpoint = cors.ENDPOINTS.get(handler)
        try:
            response = self._respond(request, handler, html, endpoint)
            if endpoint is None:
                return response
            return cors.decorate(self, request, endpoint[0], response)
        finally:
            self.storage.release()

    def _respond(
        self,
        request: Request,
        handler: Handler,
        html: bool,
        endpoint: tuple[cors.Policy, tuple[str, ...]] | None,
    ) -> Response:
        try:
            check_body_size(request, self.settings.max_body_bytes)
            if endpoint is not None and request.method == "OPTIONS":
                answer = cors.preflight(self, request, *endpoint)
                if answer is not None:
                    return answer
            return handler(self, request)
        except PageError as error:
            return self.error_page(error.description, error.status, error.error)
        except ProviderError as error:
            if html:
                return self.error_page(error.description, error.status, error.error)
            return responses.error_json(error)
        except StorageError as exc:
            # Drop the connection: a broken one (server restarted, network cut) would fail
            # every later request of this worker; the next request opens a new one.
            self.storage.close()
            return self._failure(
                exc, html, StorageUnavailable("the service is temporarily unavailable")
            )
        except Exception as exc:  # a bug: log it, never show a traceback
            return self._failure(exc, html, ProviderError("internal error", status=500))

    def _failure(self, exc: BaseException, html: bool, error: ProviderError) -> Response:
        """A 5xx with a correlation id shared by the response and the log line."""
        correlation = secrets.token_hex(8)
        log.error("%s (correlation id %s)", error.description, correlation, exc_info=exc)
        error.description = f"{error.description} (correlation id {correlation})"
        if html:
            return self.error_page(error.description, error.status, error.error)
        return responses.error_json(error)

    def _other(self, request: Request, path: str) -> Response:
        if path.startswith("/static/"):
            content = render.static_file(path[len("/static/") :])
            if content is not None:
                response = Response(body=content, content_type="text/css", charset="utf-8")
                response.cache_control.max_age = 3600
                return response
        if path == "/":
            return responses.json_response(
                {
                    "issuer": self.settings.issuer,
                    "discovery": self.url("/.well-known/openid-configuration"),
                },
                cache="no-cache",
            )
        return self.error_page("There is nothing at this address.", 404)
