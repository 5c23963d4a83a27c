"""Ingest's one PostgreSQL connection, owned by the server's event loop.

asyncpg rather than psycopg for this one statement a batch: its protocol
stays registered with the loop, where psycopg's async connection adds and
removes its socket around every statement, and binds parameters in C.
The batch INSERT of 16 webhooks cost ~550-680 µs of client CPU through
psycopg and ~250-340 µs through asyncpg (same statement, same process;
README, "Sixth round"). Everything else, Django included, stays on psycopg.

One flush at a time needs one connection: it is opened on first use and
opened again once it is closed, broken, or left inside a transaction.
"""

import json
from contextlib import asynccontextmanager

import asyncpg
from django.conf import settings

# After these the connection's state is unknown (lost, terminated by the
# server, or out of step with its protocol): it is not used again. Any
# other error (a row the database refuses, Redis down during the flush, a
# task cancelled mid-statement, which asyncpg cancels on the server and
# waits out before the next statement) leaves a working connection.
_BROKEN = (
    asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError, OSError,
)


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


async def _open() -> asyncpg.Connection:
    conn = await asyncpg.connect(**connect_options())
    try:
        # jsonb comes back as Python values, decoded as psycopg (and so
        # Django's models) would; `json` parameters stay text.
        await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=json.dumps, decoder=json.loads)
    except BaseException:
        conn.terminate()
        raise
    return conn


class LoopConnection:
    """One asyncpg connection for a caller that runs one statement at a time."""

    def __init__(self) -> None:
        self._conn: asyncpg.Connection | None = None

    @asynccontextmanager
    async def connection(self):
        if self._conn is not None and self._conn.is_closed():  # the server closed it while idle
            self._conn = None
        if self._conn is None:
            self._conn = await _open()
        conn = self._conn
        broken = False
        try:
            yield conn
        except _BROKEN:
            broken = True
            raise
        finally:
            if broken or conn.is_closed() or conn.is_in_transaction():
                self._drop(conn)

    def _drop(self, conn: asyncpg.Connection) -> None:
        if self._conn is conn:
            self._conn = None
        conn.terminate()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close(timeout=5)
