"""psycopg async connections for the report path (`/m/`).

They talk to PostgreSQL straight from the server's event loop, with no
thread hop and no ORM. The report store owns a pool of two connections
(one batch committing while the next one fills). Ingest, one flush at a
time, owns one asyncpg connection (config/loop_connection.py).
"""

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
