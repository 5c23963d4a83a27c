"""psycopg async connections for the bare ASGI paths (`/in/` and `/m/`).

They talk to PostgreSQL straight from the server's event loop, with no
thread hop and no ORM. The report store owns a pool of two connections
(one batch committing while the next one fills); ingest, one flush at a
time, owns one connection (`LoopConnection`).
"""

from contextlib import asynccontextmanager
from typing import Any

from django.conf import settings


def _conninfo() -> str:
    from psycopg.conninfo import make_conninfo

    db = settings.DATABASES["default"]
    return make_conninfo(
        "", dbname=db["NAME"], user=db["USER"] or None, password=db["PASSWORD"] or None,
        host=db["HOST"] or None, port=db["PORT"] or None, connect_timeout=5,
        application_name=db.get("OPTIONS", {}).get("application_name", "hookline"),
    )


class LoopConnection:
    """One connection, opened on first use and opened again after it breaks.

    For a caller that runs one statement at a time: a pool's check-out and
    return cost ~60 us of CPU per statement here (a `SELECT 1` in a loop:
    190 us through the pool, 130 us on a held connection), more than all
    the Python around ingest's INSERT.
    """

    def __init__(self, **connection_kwargs: Any) -> None:
        self._kwargs = connection_kwargs
        self._conn = None

    @asynccontextmanager
    async def connection(self):
        from psycopg import AsyncConnection
        from psycopg.pq import TransactionStatus

        if self._conn is None:
            self._conn = await AsyncConnection.connect(_conninfo(), **self._kwargs)
        conn = self._conn
        try:
            yield conn
        finally:
            # A broken connection, or one left inside a statement (a task
            # cancelled mid-query), is not used again.
            if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                self._conn = None
                await conn.close()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


async def open_pool(**connection_kwargs: Any):
    from psycopg_pool import AsyncConnectionPool

    options = settings.DATABASES["default"].get("OPTIONS", {})
    conninfo = _conninfo()
    pool = AsyncConnectionPool(
        conninfo, min_size=1, max_size=2, open=False, timeout=options.get("pool", {}).get("timeout", 10),
        kwargs=connection_kwargs,
    )
    await pool.open()
    return pool
