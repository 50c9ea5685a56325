"""oidc-core: an OpenID Connect Provider for Python WSGI applications."""

from .provider import Provider
from .settings import ConfigurationError, Settings
from .storage import SchemaNotCurrent, SchemaTooNew

__all__ = ["ConfigurationError", "Provider", "SchemaNotCurrent", "SchemaTooNew", "Settings"]
__version__ = "0.8.0"  # setup.cfg reads it; CHANGES.md's top entry names it
