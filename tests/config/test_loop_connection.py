"""Ingest's one connection (config/loop_connection.LoopConnection) against
real PostgreSQL: held across statements, replaced once it breaks or is
left inside a transaction, and jsonb read as Python values."""

import asyncio

import asyncpg
import pytest
from django.db import connection

from config.loop_connection import LoopConnection

pytestmark = pytest.mark.django_db(transaction=True)


async def backend_pid(db: LoopConnection) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT pg_backend_pid()")


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.close()


def run(scenario):
    async def main():
        db = LoopConnection()
        try:
            return await scenario(db)
        finally:
            await db.close()

    return asyncio.run(main())


def test_one_connection_serves_every_statement():
    async def scenario(db):
        return [await backend_pid(db) for _ in range(3)]

    assert len(set(run(scenario))) == 1


def pids_around(action) -> tuple[int, int]:
    """The connection's backend before and after `action(db, backend)`."""

    async def scenario(db):
        first = await backend_pid(db)
        await action(db, first)
        return first, await asyncio.wait_for(backend_pid(db), 10)

    return run(scenario)


def test_a_broken_connection_fails_at_most_one_statement_and_is_replaced():
    async def action(db, backend):
        await asyncio.to_thread(terminate, backend)
        try:
            during = await backend_pid(db)
        except (asyncpg.InterfaceError, asyncpg.PostgresError, asyncpg.exceptions.InternalClientError, OSError):
            return  # the one statement that fails
        # The client had read the server's goodbye: replaced before use.
        assert during != backend

    first, second = pids_around(action)
    assert first != second


def test_a_connection_left_inside_a_transaction_is_not_used_again():
    async def action(db, _backend):
        async with db.connection() as conn:
            await conn.execute("BEGIN")

    first, second = pids_around(action)
    assert first != second


def test_a_failed_statement_keeps_the_connection():
    async def action(db, _backend):
        with pytest.raises(asyncpg.DataError):
            async with db.connection() as conn:
                await conn.fetchval("SELECT 'x'::int")

    first, second = pids_around(action)
    assert first == second


def test_a_cancelled_statement_is_cancelled_on_the_server_and_the_connection_kept():
    # Left running, the sleep would hold the connection past pids_around's 10 s.
    async def action(db, _backend):
        async def slow():
            async with db.connection() as held:
                await held.fetchval("SELECT pg_sleep(30)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    first, second = pids_around(action)
    assert first == second


def test_an_error_outside_the_database_keeps_the_connection():
    async def action(db, _backend):
        with pytest.raises(RuntimeError):
            async with db.connection():
                raise RuntimeError("Redis does not answer")

    first, second = pids_around(action)
    assert first == second


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use():
    async def action(db, backend):
        await asyncio.to_thread(terminate, backend)
        for _ in range(100):  # until the client has read the server's goodbye
            if db._conn.is_closed():
                return
            await asyncio.sleep(0.05)

    first, second = pids_around(action)
    assert first != second


def test_jsonb_comes_back_as_python_values_and_json_parameters_stay_text():
    async def scenario(db):
        async with db.connection() as conn:
            document = await conn.fetchval("""SELECT '{"a": [1, true]}'::jsonb""")
            echoed = await conn.fetchval("SELECT ($1::json ->> 'k')", '{"k": "v"}')
        return document, echoed

    assert run(scenario) == ({"a": [1, True]}, "v")
