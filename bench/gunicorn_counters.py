"""gunicorn settings for the provider under bench/run.py: count key parses and slow hashes.

Bench mode only (``gunicorn -c bench/gunicorn_counters.py``); the provider's code is not
touched.  The metrics hooks of ``oidc-core serve`` (``oidc_adapters.gunicorn_metrics``) are
kept, so the provider runs as ``oidc-core serve`` runs it.

``post_fork`` wraps, in each worker before the app is imported, the functions that parse a
private key or compute a slow password hash; ``post_request`` counts the login forms
served (hashes per login) and writes the worker's counts to
``$BENCH_COUNTS_DIR/<pid>.json`` whenever they changed, so run.py can take the difference
over a run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oidc_adapters.gunicorn_metrics import child_exit, on_exit, on_starting

__all__ = ["child_exit", "on_exit", "on_starting", "post_fork", "post_request"]

COUNTS: dict[str, int] = {"key_parses": 0, "slow_hashes": 0, "login_posts": 0}
_written: dict[str, int] = {}


def _count(owner: Any, name: str, kind: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        COUNTS[kind] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)


def _write() -> None:
    if _written != COUNTS:
        path = Path(os.environ["BENCH_COUNTS_DIR"]) / f"{os.getpid()}.json"
        path.write_text(json.dumps(COUNTS))
        _written.update(COUNTS)


def post_fork(server: Any, worker: Any) -> None:
    import hashlib

    import argon2._password_hasher
    import argon2.low_level
    from cryptography.hazmat.primitives import serialization

    for name in ("load_pem_private_key", "load_der_private_key", "load_ssh_private_key"):
        _count(serialization, name, "key_parses")
    for module in (argon2.low_level, argon2._password_hasher):  # it imported them by name
        for name in ("hash_secret", "hash_secret_raw", "verify_secret"):
            if hasattr(module, name):
                _count(module, name, "slow_hashes")
    for name in ("pbkdf2_hmac", "scrypt"):
        _count(hashlib, name, "slow_hashes")
    _write()


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == "/login":
        COUNTS["login_posts"] += 1  # the denominator of slow hashes per login
    _write()
