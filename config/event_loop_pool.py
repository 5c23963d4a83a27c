"""A small psycopg async pool for the bare ASGI paths (`/in/` and `/m/`).

They talk to PostgreSQL straight from the server's event loop, with no
thread hop and no ORM. Each store owns one pool of two connections: one
batch committing while the next one fills.
"""

from typing import Any

from django.conf import settings


async def open_pool(**connection_kwargs: Any):
    from psycopg.conninfo import make_conninfo
    from psycopg_pool import AsyncConnectionPool

    db = settings.DATABASES["default"]
    options = db.get("OPTIONS", {})
    conninfo = make_conninfo(
        "", dbname=db["NAME"], user=db["USER"] or None, password=db["PASSWORD"] or None,
        host=db["HOST"] or None, port=db["PORT"] or None, connect_timeout=5,
        application_name=options.get("application_name", "hookline"),
    )
    pool = AsyncConnectionPool(
        conninfo, min_size=1, max_size=2, open=False, timeout=options.get("pool", {}).get("timeout", 10),
        kwargs=connection_kwargs,
    )
    await pool.open()
    return pool
