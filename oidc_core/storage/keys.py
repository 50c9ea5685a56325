"""Signing keys, with their rotation state (next, current, retired)."""

from __future__ import annotations

import time

from .. import records
from . import models


class KeyStore:
    def all(self) -> list[records.KeyRecord]:
        rows = models.SigningKey.select().order_by(models.SigningKey.created_at.desc())
        return [
            records.KeyRecord(
                kid=row.kid,
                alg=row.alg,
                private_pem=row.private_pem,
                state=row.state,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def add(self, kid: str, alg: str, private_pem: str, state: str = "current") -> None:
        models.SigningKey.create(
            kid=kid, alg=alg, private_pem=private_pem, state=state, created_at=int(time.time())
        )
