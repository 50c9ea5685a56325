"""Building SQL from the models' metadata: the pieces :mod:`.hotpath`'s statements are made of.

A template names tables and columns through the models (``{code:used_at}`` is the column of
``AuthorizationCode.used_at``), so a renamed column fails at start-up, not in production.
An :class:`Insert` writes every column of its model but the id, from a mapping keyed by
column name (a column left out takes its field's default).  What makes a token *live* is
written once, :func:`live_condition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import records
from . import models


class Table:
    """A model in a SQL template: ``{t}`` its table's name, ``{t:name}`` the column of a
    field (or of a column) named ``name``; quoted (MySQL/MariaDB run with ANSI quotes)."""

    def __init__(self, model: type[models.BaseModel]) -> None:
        self.model = model

    def __format__(self, name: str) -> str:
        meta = self.model._meta
        if not name:
            return f'"{meta.table_name}"'
        field = meta.fields.get(name) or meta.columns[name]
        return f'"{field.column_name}"'


TABLES = {
    "access": Table(models.AccessToken),
    "client": Table(models.Client),
    "code": Table(models.AuthorizationCode),
    "consent": Table(models.Consent),
    "pending": Table(models.PendingAuthorization),
    "refresh": Table(models.RefreshToken),
    "session": Table(models.BrowserSession),
    "throttle": Table(models.LoginThrottle),
    "user": Table(models.User),
}


def fill(template: str, p: str, **tables: Table) -> str:
    """``template`` with its tables (those above, and ``tables``), columns and
    placeholders (``{p}``) filled in."""
    return template.format(p=p, **TABLES, **tables)


def live_condition(kind: str, alias: str, p: str) -> str:
    """THE condition under which the token row ``alias`` is live at the parameter ``p``
    (now): not revoked and not expired; a refresh token also not used yet and within its
    grant's absolute expiry.  Every statement that asks whether a token is live uses it."""
    live = "{a}.{t:revoked_at} IS NULL AND {a}.{t:expires_at} > {p}"
    if kind == "refresh":
        live += " AND {a}.{t:used_at} IS NULL AND {a}.{t:absolute_expires_at} > {p}"
    return live.format(a=alias, t=TABLES[kind], p=p)


def of_active_account(token: str, user: str) -> str:
    """The token row ``token`` is of no user (client credentials) or of the active account
    ``user`` (a LEFT JOINed user row): a suspended or closed account's tokens are refused
    at use, in the statement that finds them live, at no extra query."""
    return f"({token}.{{t:user}} IS NULL OR {user}.{{user:status}} = '{records.ACTIVE}')"


def first_use(table: str, column: str, p: str, unrevoked: bool = False) -> str:
    """Set ``column`` of the row ``id`` (to now) unless it is set already (or the row is
    revoked): of two requests using one code, token or pending request, one changes it."""
    sql = "UPDATE {t} SET {t:COLUMN} = {p} WHERE {t:id} = {p} AND {t:COLUMN} IS NULL"
    if unrevoked:
        sql += " AND {t:revoked_at} IS NULL"
    return fill(sql.replace("COLUMN", column), p, t=TABLES[table])


def live_params(kind: str, first: Any, now: int) -> tuple[Any, ...]:
    """The parameters of a statement selecting tokens by ``first`` (a digest, a user id)
    that are live (:func:`live_condition`) at ``now``."""
    return (first, now, now) if kind == "refresh" else (first, now)


def columns_of(
    model: type[models.BaseModel], alias: str, prefix: str = "", only: tuple[str, ...] = ()
) -> list[str]:
    """``alias.column AS prefix+column`` for the model's columns (or the fields ``only``)."""
    meta = model._meta
    fields = [meta.fields[name] for name in only] if only else meta.sorted_fields
    return [f'{alias}."{field.column_name}" AS "{prefix}{field.column_name}"' for field in fields]


class Insert:
    """``INSERT`` of one row of ``model``: every column but the id, in model order."""

    def __init__(self, model: type[models.BaseModel], p: str, returning: bool = False) -> None:
        fields = [field for field in model._meta.sorted_fields if not field.primary_key]
        self.table = model._meta.table_name
        self.columns = tuple(field.column_name for field in fields)
        self._known = frozenset(self.columns)
        # What a column left out of a row gets: its field's default; none: it is required.
        self.defaults = {
            field.column_name: field.default
            for field in fields
            if field.null or (field.default is not None and not callable(field.default))
        }
        names = ", ".join(f'"{column}"' for column in self.columns)
        self.head = f'INSERT INTO "{self.table}" ({names})'
        self.placeholders = ", ".join([p] * len(self.columns))
        self.sql = f"{self.head} VALUES ({self.placeholders})"
        self.returning = returning  # PostgreSQL: the new id comes back as a row
        if returning:
            self.sql += " RETURNING id"

    def params(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The row's values in column order; a column it lacks takes its default."""
        if not self._known.issuperset(row):
            raise KeyError(f"{self.table} has no column {sorted(set(row) - self._known)}")
        values = {**self.defaults, **row}
        try:
            return tuple(map(values.__getitem__, self.columns))
        except KeyError as missing:
            raise KeyError(f"{self.table}: no value for the column {missing}") from None


def redeeming(consume: str, access: Insert, refresh: Insert | None) -> str:
    """``consume`` (an UPDATE of one row) and the inserts of the new tokens as one
    statement, answering how many rows it consumed (0 or 1): PostgreSQL only."""
    parts = [f"used AS ({consume} RETURNING id)"] + [
        f"{name} AS ({insert.head} SELECT {insert.placeholders} FROM used)"
        for name, insert in (("access", access), ("refresh", refresh))
        if insert is not None
    ]
    return f"WITH {', '.join(parts)} SELECT count(*) FROM used"
