"""config/redis_wire.py against the real Redis: replies in order, errors
raised like redis-py's, and a dead or lost connection replaced on the next use."""

import asyncio
import socket

import hiredis
import pytest
from django.conf import settings
from redis.connection import parse_url

from config.redis_wire import WireConnection, WirePipeline, pipeline


def key(name: str) -> str:
    return f"{settings.REDIS_PREFIX}:wiretest:{name}"


def test_a_pipeline_returns_every_reply_in_order(redis_client):
    async def main():
        pipe = pipeline()
        pipe.lpush(key("list"), b"a", b"b")
        pipe.ltrim(key("list"), 0, 0)
        pipe.eval("return {1, 2, ARGV[1]}", 0, "three")
        pipe.publish(key("channel"), b"nobody listens")
        assert len(pipe) == 4
        return await pipe.execute()

    assert asyncio.run(main()) == [2, b"OK", [1, 2, b"three"], 0]
    assert redis_client.lrange(key("list"), 0, -1) == [b"b"]
    redis_client.delete(key("list"))


def test_it_uses_the_database_of_redis_url(redis_client):
    async def main():
        pipe = pipeline()
        pipe.lpush(key("db"), b"x")
        await pipe.execute()

    asyncio.run(main())
    assert parse_url(settings.REDIS_URL).get("db", 0) == redis_client.connection_pool.connection_kwargs["db"]
    assert redis_client.lpop(key("db")) == b"x"


def test_an_error_reply_is_raised_after_the_others_ran_and_the_connection_goes_on(redis_client):
    async def main():
        pipe = pipeline()
        pipe.lpush(key("before"), b"1")
        pipe.eval("return redis.error_reply('broken script')", 0)
        pipe.lpush(key("after"), b"1")
        with pytest.raises(hiredis.ReplyError, match="broken script"):
            await pipe.execute()
        again = pipeline()
        again.lpush(key("again"), b"1")
        return await again.execute()

    assert asyncio.run(main()) == [1]
    assert redis_client.delete(key("before"), key("after"), key("again")) == 3


def test_a_lost_connection_raises_and_the_next_use_connects_again():
    # A peer speaking just enough RESP: it drops its first connection
    # mid-pipeline, as a restarting Redis would, and answers on the next.
    async def main():
        connections = []

        async def serve(reader, writer):
            connections.append(writer)
            await reader.read(65536)
            if len(connections) == 1:
                writer.close()
                return
            writer.write(b":1\r\n")
            await writer.drain()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = WireConnection("127.0.0.1", port, 0, None, None)
        first = WirePipeline(connection)
        first.lpush(key("lost"), b"1")
        with pytest.raises(ConnectionError):
            await first.execute()
        second = WirePipeline(connection)
        second.lpush(key("lost"), b"1")
        replies = await second.execute()
        server.close()
        return replies, len(connections)

    assert asyncio.run(main()) == ([1], 2)


def test_a_pipeline_with_no_redis_listening_raises():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connection refused

    async def main():
        pipe = WirePipeline(WireConnection("127.0.0.1", port, 0, None, None))
        pipe.lpush(key("nowhere"), b"1")
        await pipe.execute()

    with pytest.raises(OSError):
        asyncio.run(main())
