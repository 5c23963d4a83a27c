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
from django.db.models import signals
from django.db.models.base import ModelState


class _PreparedCursor(ServerBindingCursor):
    """Server-side binding, and PREPARE on first use (Django's connections
    leave psycopg's automatic preparing off)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def fetch_all(sql: str, params: dict | list) -> list[tuple]:
    """Run one statement that returns rows (psycopg placeholders) on Django's
    connection of this thread, inside whatever transaction it is in; its
    rows. Django's cursor wrapper stays around it, so query logging and
    counting see it. (Nothing here asks for `description`: psycopg builds
    a column object per column each time, a sixth of a claim's CPU.)"""
    connection.ensure_connection()
    with connection._prepare_cursor(_PreparedCursor(connection.connection)) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def instances(model, rows: list[tuple]) -> list:
    """Model instances from rows of all its concrete columns in order, with
    Django's own value converters (jsonb arrives as text, for one).

    What `Model.from_db` would make, without running `Model.__init__` per
    row (a third of a claim's CPU): the fields' values go straight into the
    instance's __dict__, as __init__ leaves them for plain columns. A model
    someone listens to with pre_init or post_init takes the long way.
    """
    names, converters = _columns(model)
    quick = not (signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model))
    made = []
    for row in rows:
        values = list(row)
        for index, column, functions in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
        if not quick:
            made.append(model.from_db(connection.alias, names, values))
            continue
        instance = model.__new__(model)
        state = instance._state = ModelState()
        state.adding, state.db = False, connection.alias
        instance.__dict__.update(zip(names, values))
        made.append(instance)
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
