"""Relying parties (clients)."""

from __future__ import annotations

import time

from .. import credentials, records
from . import convert, models
from .db import database_proxy
from .hotpath import HotPath


class ClientStore:
    def __init__(self, hot: HotPath) -> None:
        self._hot = hot

    def create(
        self,
        name: str,
        redirect_uris: list[str],
        *,
        description: str = "",
        client_uri: str = "",
        logo_uri: str = "",
        allowed_scopes: str = "openid profile email",
        require_pkce: bool = False,
    ) -> tuple[records.Client, str]:
        """Create a client; returns it with its secret, which is stored only as a digest."""
        secret = credentials.new_client_secret()
        now = int(time.time())
        with database_proxy.atomic():
            row = models.Client.create(
                client_id=credentials.new_client_id(),
                secret_digest=credentials.digest(secret),
                name=name,
                description=description,
                client_uri=client_uri,
                logo_uri=logo_uri,
                redirect_uris="\n".join(redirect_uris),
                allowed_scopes=allowed_scopes,
                require_pkce=require_pkce,
                created_at=now,
                updated_at=now,
            )
        return convert.client(row), secret

    def by_client_id(self, client_id: str) -> records.Client | None:
        row = self._hot.fetch_one(self._hot.client_by_client_id, (client_id,))
        return convert.client(row) if row else None  # type: ignore[arg-type]

    def create_or_reset_demo(
        self, name: str, redirect_uris: list[str]
    ) -> tuple[records.Client, str]:
        """The demo client by name, created or given a fresh secret."""
        row = models.Client.get_or_none(models.Client.name == name)
        if row is None:
            return self.create(
                name, redirect_uris, description="Created by `oidc-core init --demo`"
            )
        secret = self.reset_secret(row.client_id)
        return convert.client(models.Client.get_by_id(row.id)), secret

    def reset_secret(self, client_id: str) -> str:
        """A new secret; the previous one stops working when this commits."""
        secret = credentials.new_client_secret()
        with database_proxy.atomic():
            models.Client.update(
                secret_digest=credentials.digest(secret), updated_at=int(time.time())
            ).where(models.Client.client_id == client_id).execute()
        return secret
