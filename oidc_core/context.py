"""What a handler may use of the provider: the :class:`Context` protocol.

Handlers (endpoints, pages, the admin and account areas) take a ``Context``, not the
:class:`~oidc_core.provider.Provider` that builds them: they depend on the services listed
here and nothing else, and ``provider.py`` imports them without them importing it back.
``Provider`` satisfies the protocol (checked by mypy in ``provider.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from webob import Request, Response

    from .accounts import Accounts
    from .admin.service import ClientAdmin
    from .interactions.browser import BrowserSessions
    from .interactions.flash import Flashes
    from .keys import KeyRing
    from .metrics import Metrics
    from .oauth.server import OAuthServer
    from .passwords import PasswordService
    from .settings import Settings
    from .storage import Storage
    from .throttle import Throttle


class Wakeable(Protocol):
    """The back-channel logout sender, as handlers see it: told that deliveries wait."""

    def wake(self) -> None: ...


class DiscoveryBody(Protocol):
    """The discovery document, serialized for the current signing algorithms."""

    def body(self, algorithms: list[str]) -> bytes: ...


class Context(Protocol):
    """The provider's services and helpers that handlers use."""

    @property
    def settings(self) -> Settings: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def keys(self) -> KeyRing: ...
    @property
    def passwords(self) -> PasswordService: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def throttle(self) -> Throttle: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def browser(self) -> BrowserSessions: ...
    @property
    def flashes(self) -> Flashes: ...
    @property
    def clients(self) -> ClientAdmin: ...
    @property
    def server(self) -> OAuthServer: ...
    @property
    def backchannel(self) -> Wakeable: ...
    @property
    def discovery_document(self) -> DiscoveryBody: ...

    def url(self, path: str) -> str:
        """The absolute URL of one of our paths, under the issuer."""

    def site_url(self, uri: str) -> str:
        """A path on the site the provider is mounted in, made absolute."""

    def client_address(self, request: Request) -> str:
        """The client's IP address (``X-Forwarded-For`` only from trusted proxies)."""

    def render(
        self,
        template: str,
        *,
        locale: str | None = None,
        request: Request | None = None,
        **context: Any,
    ) -> str:
        """A page in ``locale``, else the request's language, else English."""

    def error_page(
        self,
        message: str,
        status: int = 400,
        error_code: str = "",
        *,
        locale: str | None = None,
        request: Request | None = None,
        correlation_id: str = "",
        template: str = "error.html",
        **frame: Any,
    ) -> Response:
        """An error page (``Provider.error_page``)."""
