"""Ingest's one connection (config/event_loop_pool.LoopConnection) against
real PostgreSQL: held across statements, replaced once it breaks or is
left inside a transaction."""

import asyncio

import psycopg
import pytest
from django.db import connection

from config.event_loop_pool import LoopConnection

pytestmark = pytest.mark.django_db(transaction=True)


async def backend_pid(db: LoopConnection) -> int:
    async with db.connection() as conn:
        return (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close()


def test_one_connection_serves_every_statement():
    async def main():
        db = LoopConnection(autocommit=True)
        try:
            return [await backend_pid(db) for _ in range(3)]
        finally:
            await db.close()

    pids = asyncio.run(main())
    assert len(set(pids)) == 1


def test_a_broken_connection_fails_one_statement_and_is_replaced():
    async def main():
        db = LoopConnection(autocommit=True)
        try:
            first = await backend_pid(db)
            await asyncio.to_thread(terminate, first)
            with pytest.raises(psycopg.OperationalError):
                await backend_pid(db)
            return first, await backend_pid(db)
        finally:
            await db.close()

    first, second = asyncio.run(main())
    assert first != second


def test_a_connection_left_inside_a_transaction_is_not_used_again():
    async def main():
        db = LoopConnection()  # not autocommit: a statement opens a transaction
        try:
            return await backend_pid(db), await backend_pid(db)
        finally:
            await db.close()

    first, second = asyncio.run(main())
    assert first != second
