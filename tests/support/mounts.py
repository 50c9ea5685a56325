"""The provider under every mount, and a browser that knows where the provider lives.

``Mount`` is one way to serve the provider: ``standalone`` (the provider itself at the root,
as gunicorn runs it), ``middleware``, ``pyramid`` and ``bottle`` (a host application with the
provider under ``/oidc``).  The issuer is ``https://op.example`` plus the mount's prefix.

``MountedApp`` is a WebTest browser on the mount's host application.  A path such as
``/authorize`` means the provider's path and gets the prefix in front (a path already under
the prefix is left alone: the provider has no path of its own that starts with it); an
absolute URL (a ``Location``, a form's action, an endpoint from discovery) is requested
exactly as it is, so a URL the provider published without its prefix would miss the
provider and fail.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import webtest

from oidc_core import Provider, Settings
from oidc_core.storage import Storage
from tests.support import hosts

ORIGIN = "https://op.example"
PREFIX = "/oidc"
MOUNTS = ("standalone", "middleware", "pyramid", "bottle")
# OIDC_TEST_MOUNTS=standalone,bottle runs the flow tests under some mounts only.
SELECTED = tuple(
    name for name in os.environ.get("OIDC_TEST_MOUNTS", ",".join(MOUNTS)).split(",") if name
)


@dataclass
class Mount:
    name: str
    prefix: str  # "" at the root
    provider: Provider
    root: hosts.WSGIApp  # what the server runs: the host application, or the provider

    @property
    def issuer(self) -> str:
        return self.provider.settings.issuer

    def browser(self) -> MountedApp:
        """A new browser (its own cookie jar)."""
        return MountedApp(self)


class MountedApp(webtest.TestApp):  # type: ignore[misc]
    """A WebTest browser on a mount; ``/path`` is the provider's path (see the module)."""

    def __init__(self, mount: Mount) -> None:
        super().__init__(
            mount.root, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "op.example"}
        )
        self.mount = mount

    @property
    def issuer(self) -> str:
        return self.mount.issuer

    def new_browser(self) -> MountedApp:
        return self.mount.browser()

    def _provider_url(self, url: str) -> str:
        prefix = self.mount.prefix
        if not url.startswith("/") or url == prefix or url.startswith(prefix + "/"):
            return url  # absolute, or already under the prefix (no provider path is)
        return prefix + url

    # Every request of TestApp goes through one of these three.
    def get(self, url: str, *args: Any, **kwargs: Any) -> webtest.TestResponse:
        return super().get(self._provider_url(url), *args, **kwargs)

    def _gen_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super()._gen_request(method, self._provider_url(url), *args, **kwargs)

    def request(self, url_or_req: Any, *args: Any, **kwargs: Any) -> webtest.TestResponse:
        if isinstance(url_or_req, str):
            url_or_req = self._provider_url(url_or_req)
        return super().request(url_or_req, *args, **kwargs)


def settings_for(name: str, database_url: str, **options: Any) -> Settings:
    prefix = "" if name == "standalone" else PREFIX
    return Settings(issuer=ORIGIN + prefix, database_url=database_url, **options)


def build(name: str, settings: Settings, storage: Storage) -> Mount:
    """The mount ``name`` of a provider with ``settings`` on ``storage``."""
    if name == "pyramid":
        ini = {"oidc." + key: _ini(value) for key, value in _non_defaults(settings).items()}
        root, provider = hosts.pyramid_host(ini, storage)
        return Mount(name, PREFIX, provider, root)
    provider = Provider(settings, storage=storage)
    wrap: dict[str, Callable[[Provider], hosts.WSGIApp]] = {
        "standalone": lambda provider: provider,
        "middleware": hosts.middleware_host,
        "bottle": hosts.bottle_host,
    }
    return Mount(name, "" if name == "standalone" else PREFIX, provider, wrap[name](provider))


def _non_defaults(settings: Settings) -> dict[str, Any]:
    return {
        field.name: getattr(settings, field.name)
        for field in dataclasses.fields(settings)
        if getattr(settings, field.name) != field.default
    }


def _ini(value: Any) -> str:
    """A setting as an ``.ini`` file writes it."""
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)
