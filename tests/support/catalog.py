"""A database's schema as its own catalog describes it, to compare two databases.

Columns (type, nullability, default, primary key), indexes (name, columns, uniqueness,
the partial index's condition), foreign keys (column, referenced table and column, the
``ON DELETE`` rule): peewee's introspection, and the catalog itself for what peewee does
not read (``ON DELETE``, MySQL's collations and generated columns).  Column order is left
out: a migration appends its columns, a new table follows the model; every statement
names its columns.
"""

from __future__ import annotations

import re
from typing import Any

import peewee


def describe(db: peewee.Database) -> dict[str, dict[str, Any]]:
    """``table -> {"columns": ..., "indexes": ..., "foreign_keys": ...}``."""
    rules = _delete_rules(db)
    extra = _mysql_columns(db) if _is_mysql(db) else {}
    return {
        table: {
            "columns": {
                column.name: (
                    column.data_type.lower(),
                    column.null,
                    column.primary_key,
                    column.default,
                    extra.get((table, column.name)),
                )
                for column in db.get_columns(table)
            },
            "indexes": {
                index.name: (tuple(index.columns), index.unique, _condition(index.sql))
                for index in db.get_indexes(table)
            },
            "foreign_keys": {
                (fk.column, fk.dest_table, fk.dest_column, rules.get((table, fk.column)))
                for fk in db.get_foreign_keys(table)
            },
        }
        for table in db.get_tables()
    }


def _is_mysql(db: peewee.Database) -> bool:
    return isinstance(db, peewee.MySQLDatabase)


def _condition(sql: str | None) -> str:
    """The ``WHERE`` of a partial index, spaces and quotes normalised."""
    where = re.split(r"\bWHERE\b", sql or "", maxsplit=1, flags=re.IGNORECASE)[1:]
    return re.sub(r'[\s"()]+', " ", where[0]).strip().lower() if where else ""


def _delete_rules(db: peewee.Database) -> dict[tuple[str, str], str]:
    """``(table, column) -> ON DELETE rule`` of every foreign key."""
    if isinstance(db, peewee.SqliteDatabase):
        return {
            (table, row[3]): row[6].upper()
            for table in db.get_tables()
            for row in db.execute_sql(f'PRAGMA foreign_key_list("{table}")').fetchall()
        }
    mysql = _is_mysql(db)
    same_table = " AND k.table_name = r.table_name" if mysql else ""
    schema = "DATABASE()" if mysql else "current_schema()"
    rows = db.execute_sql(
        "SELECT k.table_name, k.column_name, r.delete_rule "
        "FROM information_schema.referential_constraints r "
        "JOIN information_schema.key_column_usage k ON k.constraint_name = r.constraint_name "
        f"AND k.constraint_schema = r.constraint_schema{same_table} "
        f"WHERE r.constraint_schema = {schema}"
    ).fetchall()
    return {(table, column): rule.upper() for table, column, rule in rows}


def _mysql_columns(db: peewee.Database) -> dict[tuple[str, str], tuple[Any, ...]]:
    """MySQL/MariaDB: each column's full type, collation and generation expression."""
    rows = db.execute_sql(
        "SELECT table_name, column_name, column_type, collation_name, generation_expression "
        "FROM information_schema.columns WHERE table_schema = DATABASE()"
    ).fetchall()
    return {(table, column): tuple(rest) for table, column, *rest in rows}
