"""oidc-core: an OpenID Connect Provider for Python WSGI applications."""

from .provider import Provider
from .settings import ConfigurationError, Settings

__all__ = ["ConfigurationError", "Provider", "Settings"]
__version__ = "0.1.0"
