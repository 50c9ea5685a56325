"""The Provider: one WSGI application serving every endpoint of the OP.

``Provider(settings)`` wires storage, keys, the oauthlib server and the pages.  Call it as a
WSGI app (or use ``provider.wsgi_app``); adapters only mount it.  Routes are matched on
``PATH_INFO``; every URL the provider publishes derives from ``settings.issuer``.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from webob import Request, Response

from . import cors, network, responses, routes
from . import logging as request_logs
from .accounts import Accounts, AccountSource, ClientAccess, DatabaseAccounts, HostLogin
from .admin.service import ClientAdmin
from .backchannel import Sender
from .endpoints import discovery
from .errors import PageError, ProviderError, RequestTooLarge, StorageUnavailable
from .interactions.browser import BrowserSessions
from .interactions.flash import Flashes
from .keys import KeyRing
from .mail import Outbox
from .metrics import Metrics
from .oauth.server import OAuthServer
from .pages import Pages
from .params import check_body_size, check_header_size, check_url_length
from .passwords import PasswordService
from .sectors import SectorFetcher
from .settings import Settings
from .storage import SchemaNotCurrent, Storage, StorageError
from .throttle import Throttle, Throttled
from .ui import locales, render
from .ui.brand import Brand
from .ui.translations import N_

if TYPE_CHECKING:
    from .context import Context

log = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD")  # what the static files and the root answer

# What a page says about a failure of ours (the JSON answer keeps the error's description).
FAILURE_MESSAGES = {
    500: N_("An unexpected error occurred on our side. Try again later."),
    503: N_("The service is temporarily unavailable. Try again in a moment."),
}


# What a request answers 503 for: a failing database, or one whose schema is not current.
UNAVAILABLE: tuple[type[BaseException], ...] = (*StorageError, SchemaNotCurrent)


class Provider(Pages):
    """An OpenID Connect Provider as a WSGI application; its handlers see it as a
    :class:`~oidc_core.context.Context`."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage | None = None,
        *,
        accounts: AccountSource | None = None,
        host_login: HostLogin | None = None,
        client_access: ClientAccess | None = None,
    ) -> None:
        """``accounts``: a host's own account source (default: the ``oidc_user`` table);
        ``host_login``: the host's signed-in user for a request; ``client_access``:
        ``(account, client) -> bool``, whether an account may use a client, asked before
        any code is issued and at every refresh (``docs/hosting.md``).

        Raises :class:`SchemaNotCurrent` when the database has no schema, an older one (run
        ``oidc-core migrate``) or a newer one; an unreachable database is no error here: its
        schema is checked at the first request that needs it."""
        self.settings = settings
        self.brand = Brand(settings)  # its files read, its colour checked: before the database
        render.check_overrides(settings.templates_dir)
        self.storage = storage or Storage(
            settings.database_url,
            echo=settings.sql_echo,
            statement_timeout_ms=settings.database_statement_timeout_ms,
        )
        self._schema_checked = self._check_schema_at_start()
        self.keys = KeyRing(self.storage, settings)
        self.passwords = PasswordService(settings)
        self.metrics = Metrics()
        self.throttle = Throttle(
            settings, self.storage, on_password_failure=self.metrics.login_failed
        )
        self.accounts = Accounts(
            self.storage,
            accounts or DatabaseAccounts(self.storage, self.passwords),
            host_login,
            throttle=self.throttle,
            client_access=client_access,
        )
        self.browser = BrowserSessions(settings, self.storage)
        self.flashes = Flashes(settings, self.storage)
        self.clients = ClientAdmin(self.storage, SectorFetcher.of(settings))
        self.server = OAuthServer(settings, self.storage, self.keys, self.accounts)
        self._trusted_proxies = network.parse_networks(settings.trusted_proxies)
        self.mail = Outbox(settings)
        request_logs.quiet()

    def _check_schema_at_start(self) -> bool:
        """Whether the schema was found current; raises :class:`SchemaNotCurrent`.  A
        connection opened for the check is closed again: a process that forks workers
        after building the provider must not hand them one shared connection."""
        storage = self.storage
        opened_here = storage.database.is_closed()
        try:
            storage.check_schema()
        except StorageError as exc:
            storage.drop_after_failure()
            log.warning("database unreachable, its schema is checked at the first request: %s", exc)
            return False
        finally:
            if opened_here:
                storage.disconnect()
        return True

    def _check_schema(self) -> None:
        """Before the first request that needs the database, when it was unreachable at
        construction; raises :class:`SchemaNotCurrent` (a 503) until the schema is current."""
        if not self._schema_checked:
            self.storage.check_schema()
            self._schema_checked = True

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
        return Sender(
            self.storage,
            allow_private_addresses=self.settings.backchannel_private_addresses_allowed,
            proxy=self.settings.backchannel_proxy,
        )

    def close(self) -> None:
        """Stop the back-channel sender thread and close this thread's database
        connection (a worker's exit; a host app's shutdown)."""
        self.backchannel.stop()
        self.storage.close()

    @cached_property
    def discovery_document(self) -> discovery.Document:
        return discovery.Document(discovery.metadata(self))

    def client_address(self, request: Request) -> str:
        """The client's IP address (``X-Forwarded-For`` only from trusted proxies)."""
        return network.client_address(request, self._trusted_proxies)

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
        """Answer ``request`` under its request id, counted and logged in one access line."""
        request_id = request_logs.request_id_for(request.headers.get("X-Request-Id"))
        context = request_logs.REQUEST_ID.set(request_id)
        language = locales.PAGE_LANGUAGE.set(None)
        started = time.perf_counter()
        try:
            path, route = routes.find(request)
            try:
                response = self._route(request, path, route)
            except Exception as exc:  # a page outside the handlers (404, 413, static) failed
                html = route is None or route.html
                internal = ProviderError("internal error", status=500)
                response = self._failure(exc, html, internal, request)
            response.headers["X-Request-Id"] = request_id
            elapsed = time.perf_counter() - started
            name = routes.endpoint_name(path, route)
            self.metrics.request_done(name, response.status_int, elapsed)
            request_logs.log_access(request, response.status_int, elapsed, self.client_address)
            return response
        finally:
            locales.PAGE_LANGUAGE.reset(language)
            request_logs.REQUEST_ID.reset(context)

    def _route(self, request: Request, path: str | None, route: routes.Route | None) -> Response:
        try:
            self._check_size(request)
        except RequestTooLarge as error:
            if route is None or route.html:
                return self.error_page(
                    error.description, error.status, error.error, request=request
                )
            return responses.error_json(error)
        if path is None:
            return self.error_page("There is nothing at this address.", 404, request=request)
        if route is None:
            return self._other(request, path)
        try:
            self.backchannel.wake_if_pending()  # before the request: release() ends its use
            response = self._respond(request, route)
            if route.cors is None:
                return response
            return cors.decorate(self, request, route.cors.policy, response)
        finally:
            self.storage.release()

    def _check_size(self, request: Request) -> None:
        """The configured limits, before anything of the request is used: headers (431),
        path and query (414), body (413, read no further than the limit)."""
        check_header_size(request.environ, self.settings.max_header_bytes)
        check_url_length(request.environ, self.settings.max_url_length)
        check_body_size(request, self.settings.max_body_bytes)

    def _respond(self, request: Request, route: routes.Route) -> Response:
        html = route.html
        reader = request if route.translated else None  # the language of error pages
        try:
            if route.needs_schema:
                self._check_schema()
            if route.cors is not None and request.method == "OPTIONS":
                answer = cors.preflight(self, request, route.cors.policy, route.cors.methods)
                if answer is not None:
                    return answer
            return route.handler(self, request)
        except PageError as error:
            return self.error_page(error.description, error.status, error.error, request=reader)
        except ProviderError as error:
            if html:
                response = self.error_page(
                    error.description, error.status, error.error, request=reader
                )
            else:
                response = responses.error_json(error)
            if isinstance(error, Throttled):
                response.headers["Retry-After"] = str(error.retry_after)
            return response
        except UNAVAILABLE as exc:
            # Drop the connection: a broken one (server restarted, network cut) would fail
            # every later request of this worker; the next request opens a new one.  The
            # log has the schema's problem ("run `oidc-core migrate`"), the client a 503.
            self.storage.close()
            unavailable = StorageUnavailable("the service is temporarily unavailable")
            return self._failure(exc, html, unavailable, reader)
        except Exception as exc:  # a bug: log it, never show a traceback
            return self._failure(exc, html, ProviderError("internal error", status=500), reader)

    def _failure(
        self, exc: BaseException, html: bool, error: ProviderError, request: Request | None
    ) -> Response:
        """A 5xx with a correlation id shared by the response and the log line."""
        correlation = request_logs.REQUEST_ID.get() or secrets.token_hex(8)
        log.error("%s (correlation id %s)", error.description, correlation, exc_info=exc)
        if html:
            message = FAILURE_MESSAGES.get(error.status, error.description)
            try:
                return self.error_page(
                    message, error.status, error.error, request=request, correlation_id=correlation
                )
            except Exception as page_failure:  # its template too: an override broken since
                log.error(
                    "the error page failed too (correlation id %s)",
                    correlation,
                    exc_info=page_failure,
                )
                return responses.failure_text(error.status, correlation)
        error.description = f"{error.description} (correlation id {correlation})"
        return responses.error_json(error)

    def _other(self, request: Request, path: str) -> Response:
        """A static file, or the root's pointer to discovery: read-only, so any method but
        GET and HEAD is 405 with ``Allow`` (never the file, never a 200)."""
        found = self._static(path) if path.startswith("/static/") else None
        if found is None and path == "/":
            found = responses.json_response(
                {
                    "issuer": self.settings.issuer,
                    "discovery": self.url("/.well-known/openid-configuration"),
                },
                cache="no-cache",
            )
        if found is None:
            return self.error_page("There is nothing at this address.", 404, request=request)
        if request.method not in READ_METHODS:
            refused = self.error_page("Use GET.", 405, request=request)
            refused.headers["Allow"] = ", ".join(READ_METHODS)
            return refused
        return found

    def _static(self, path: str) -> Response | None:
        name = path[len("/static/") :]
        asset = self.brand.asset(name)
        if asset is not None:
            return responses.static_file(asset.body, asset.content_type)
        content = render.static_file(name)
        if content is not None:
            kind = "text/javascript" if path.endswith(".js") else "text/css"
            return responses.static_file(content, kind)
        return None


if TYPE_CHECKING:  # mypy's proof that the provider gives handlers all the protocol promises

    def _as_context(provider: Provider) -> Context:
        return provider
