"""Ingest's one PostgreSQL connection, owned by the server's event loop.

asyncpg rather than psycopg for this one statement a batch: its protocol
stays registered with the loop, where psycopg's async connection adds and
removes its socket around every statement, and binds parameters in C.
The batch INSERT of 16 webhooks cost ~550-680 µs of client CPU through
psycopg and ~250-340 µs through asyncpg (same statement, same process;
README, "Sixth round"). Everything else, Django included, stays on psycopg.

One flush at a time needs one connection: it is opened on first use and
opened again after it breaks or is left inside a transaction.
"""

from contextlib import asynccontextmanager

import asyncpg
import orjson
from django.conf import settings


def connect_options() -> dict:
    db = settings.DATABASES["default"]
    return {
        "host": db["HOST"] or None,
        "port": int(db["PORT"]) if db["PORT"] else None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
        "database": db["NAME"],
        "timeout": 5,
        "server_settings": {"application_name": db.get("OPTIONS", {}).get("application_name", "hookline")},
    }


def _loads(text: str):
    return orjson.loads(text)


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


async def _open() -> asyncpg.Connection:
    conn = await asyncpg.connect(**connect_options())
    # jsonb comes back as Python values, the way psycopg (and so Django's
    # models) hand it over; `json` parameters stay text.
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=_dumps, decoder=_loads)
    return conn


# What a statement's rows can cause (the store answers them row by row);
# the connection itself is fine afterwards.
_ROW_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


class LoopConnection:
    """One asyncpg connection for a caller that runs one statement at a time."""

    def __init__(self) -> None:
        self._conn: asyncpg.Connection | None = None

    @asynccontextmanager
    async def connection(self):
        if self._conn is None:
            self._conn = await _open()
        conn = self._conn
        try:
            yield conn
        except _ROW_ERRORS:
            self._drop_unless_idle(conn)
            raise
        except BaseException:
            # A lost or terminated connection, a task cancelled
            # mid-statement: its state is unknown, so it is not used again.
            self._drop(conn)
            raise
        self._drop_unless_idle(conn)

    def _drop_unless_idle(self, conn: asyncpg.Connection) -> None:
        if conn.is_closed() or conn.is_in_transaction():
            self._drop(conn)

    def _drop(self, conn: asyncpg.Connection) -> None:
        if self._conn is conn:
            self._conn = None
        conn.terminate()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close(timeout=5)
