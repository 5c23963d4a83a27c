"""The engine's own statements as server-side prepared statements.

Django binds parameters on the client, so PostgreSQL plans every statement
anew; the claim (a recursive skip scan with a window) took ~2 ms to plan and
well under that to run, a hundred times a second per worker. On the same
connection psycopg prepares a statement after a few executions and
PostgreSQL then reuses its plan (PREPARE/EXECUTE, one round trip as before).
"""

import functools

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor


class _PreparedCursor(ServerBindingCursor):
    """Server-side binding, and PREPARE on first use (Django's connections
    leave psycopg's automatic preparing off)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def fetch_all(sql: str, params: dict | list) -> list[tuple]:
    """Run one statement (psycopg placeholders) on Django's connection of this
    thread, inside whatever transaction it is in; its rows. Django's cursor
    wrapper stays around it, so query logging and counting see it."""
    connection.ensure_connection()
    with connection._prepare_cursor(_PreparedCursor(connection.connection)) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description is not None else []


def instances(model, rows: list[tuple]) -> list:
    """Model instances from rows of all its concrete columns in order, with
    Django's own value converters (jsonb arrives as text, for one)."""
    names, converters = _columns(model)
    made = []
    for row in rows:
        values = list(row)
        for index, column, functions in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
        made.append(model.from_db(connection.alias, names, values))
    return made


@functools.cache
def _columns(model) -> tuple[list[str], list[tuple]]:
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            converters.append((index, column, functions))
    return [field.attname for field in fields], converters
