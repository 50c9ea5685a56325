"""Thin adapters that mount :class:`oidc_core.Provider` (installed as ``oidc_adapters``)."""
