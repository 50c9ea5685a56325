"""What a handler may use of the provider: the :class:`Context` protocol.

Handlers (endpoints, pages, the admin and account areas) take a ``Context``, not the
:class:`~oidc_core.provider.Provider` that builds them: they depend on the services listed
here and nothing else, and ``provider.py`` imports them without them importing it back.
``Provider`` satisfies the protocol (checked by mypy in ``provider.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .pages import Pages

if TYPE_CHECKING:
    from webob import Request

    from .accounts import Accounts
    from .admin.service import ClientAdmin
    from .interactions.browser import BrowserSessions
    from .interactions.flash import Flashes
    from .keys import KeyRing
    from .mail import Outbox
    from .metrics import Metrics
    from .oauth.server import OAuthServer
    from .passwords import PasswordService
    from .storage import Storage
    from .throttle import Throttle


class Wakeable(Protocol):
    """The back-channel logout sender, as handlers see it: told that deliveries wait."""

    def wake(self) -> None: ...


class DiscoveryBody(Protocol):
    """The discovery document, serialized for the current signing algorithms."""

    def body(self, algorithms: list[str]) -> bytes: ...


class Context(Pages, Protocol):
    """The provider's services and helpers that handlers use (with ``settings``, ``url``,
    ``render`` and ``error_page`` of :class:`~oidc_core.pages.Pages`)."""

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
    @property
    def mail(self) -> Outbox: ...

    def site_url(self, uri: str) -> str:
        """A path on the site the provider is mounted in, made absolute."""
        ...

    def client_address(self, request: Request) -> str:
        """The client's IP address (``X-Forwarded-For`` only from trusted proxies)."""
        ...
