"""The Python peers' PostgreSQL databases, each of its own, next to the provider's.

``bench/run.py --postgresql URL`` gives the provider the database of URL; a Python peer
(bench/python_peers.py) gets one on the same server named after it (``<dbname>_dot``,
``<dbname>_authlib``...), dropped and created empty before the peer starts (every run starts
from the same empty tables, as the provider's emptied ``public`` schema) and dropped when the
peer stops.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def sibling(url: str, name: str, scheme: str = "") -> str:
    """URL with the database ``name`` instead of its own (and ``scheme``, when given)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=scheme or parts.scheme, path="/" + name))


def _execute(url: str, statement: sql.Composed) -> None:
    with psycopg.connect(url, autocommit=True) as connection:  # no DDL on databases in a txn
        connection.execute(statement)


def _drop(url: str, name: str) -> None:
    _execute(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def created(url: str, suffix: str) -> Iterator[str]:
    """A new empty database ``<dbname of url>_<suffix>`` on url's server, dropped at the end;
    yields its name."""
    name = f"{urlsplit(url).path.lstrip('/')}_{suffix}"
    _drop(url, name)
    _execute(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        _drop(url, name)
