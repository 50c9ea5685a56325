"""Mount the provider in a Pyramid application.

::

    config = Configurator(settings=settings)         # oidc.issuer = https://www.example.com/oidc
    config.include("oidc_adapters.pyramid")          # /oidc/... -> the provider
    config.set_oidc_account_source(MyAccounts())     # optional: the host's users
    config.set_oidc_host_login(signed_in_account)    # optional: the host's session
    config.set_oidc_client_access(may_use)           # optional: who may use which client
    app = config.make_wsgi_app()

The settings are the ``oidc.*`` keys of the application's settings (the ``.ini`` file), read
by ``Settings.from_mapping``.  The prefix is the issuer's path; ``route_prefix=`` on the
include must agree with it.  The provider is built when the configuration is committed, so
the directives apply in any order; setting one twice is a ``ConfigurationConflictError``.
The provider's views opt out of the host's CSRF policy: the provider checks its own forms,
and relying parties post to the token endpoint.

``set_oidc_host_login(fn)``: ``fn(pyramid_request)`` returns the signed-in host user's
``oidc_core.accounts.Account`` or None, and may use ``request.authenticated_userid`` and the
host's session.  ``set_oidc_client_access(fn)``: ``fn(account, client)`` answers whether the
account may use the client (``docs/hosting.md``).  ``set_oidc_storage(storage)`` shares an
open ``oidc_core.storage.Storage``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.interfaces import PHASE1_CONFIG, PHASE2_CONFIG
from pyramid.registry import Registry
from webob import Request, Response

from oidc_core import Provider, Settings

from . import mount_prefix, provider_environ

REQUEST_KEY = "oidc_adapters.pyramid.request"  # the host's request, in the provider's environ
ROUTE = "oidc_adapters.provider"
_SETUP = "oidc_adapters.pyramid"
_DIRECTIVE = "oidc_adapters.pyramid."


@dataclass
class _Setup:
    settings: Settings
    options: dict[str, Any]  # keyword arguments of Provider, set by the directives
    provider: Provider | None = None


def includeme(config: Configurator) -> None:
    settings = Settings.from_mapping(config.get_settings(), prefix="oidc.")
    prefix = mount_prefix(settings, "/" + config.route_prefix if config.route_prefix else None)
    config.registry[_SETUP] = setup = _Setup(settings, {})
    config.add_directive("set_oidc_account_source", set_account_source)
    config.add_directive("set_oidc_host_login", set_host_login)
    config.add_directive("set_oidc_client_access", set_client_access)
    config.add_directive("set_oidc_storage", set_storage)
    base = "" if config.route_prefix else prefix  # add_route puts route_prefix in front
    config.add_route(ROUTE, base + "/{path:[\\s\\S]*}")  # "*subpath" misses a newline
    config.add_route(ROUTE + ".root", base, inherit_slash=not base)
    for route in (ROUTE, ROUTE + ".root"):
        config.add_view(_HandOver(prefix), route_name=route, require_csrf=False)

    def build() -> None:
        setup.provider = Provider(setup.settings, **setup.options)

    config.action(_DIRECTIVE + "provider", build, order=PHASE2_CONFIG)


def provider_of(registry: Registry) -> Provider:
    """The application's provider (once the configuration is committed)."""
    provider = registry[_SETUP].provider
    if provider is None:
        raise RuntimeError("the Pyramid configuration is not committed yet")
    return provider  # type: ignore[no-any-return]


def set_account_source(config: Configurator, source: Any) -> None:
    """Directive: the host's ``oidc_core.accounts.AccountSource``."""
    _option(config, "accounts", source)


def set_host_login(config: Configurator, host_login: Callable[[Any], Any]) -> None:
    """Directive: ``host_login(pyramid_request)`` -> the signed-in host user's Account or None."""

    def from_provider_request(request: Request) -> Any:
        host_request = request.environ.get(REQUEST_KEY)
        return None if host_request is None else host_login(host_request)

    _option(config, "host_login", from_provider_request)


def set_client_access(config: Configurator, client_access: Callable[[Any, Any], bool]) -> None:
    """Directive: ``client_access(account, client)`` -> whether the account may use the client."""
    _option(config, "client_access", client_access)


def set_storage(config: Configurator, storage: Any) -> None:
    """Directive: an open ``oidc_core.storage.Storage`` for the provider to use."""
    _option(config, "storage", storage)


def _option(config: Configurator, name: str, value: Any) -> None:
    def register() -> None:
        config.registry[_SETUP].options[name] = value

    config.action(_DIRECTIVE + name, register, order=PHASE1_CONFIG)


class _HandOver:
    """The view: the request, prefix moved to SCRIPT_NAME, to the provider; its response."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, request: Any) -> Response:
        environ = provider_environ(request.environ, self.prefix)
        if environ is None:
            raise HTTPNotFound()
        environ[REQUEST_KEY] = request
        response: Response = Request(environ).get_response(provider_of(request.registry))
        return response
