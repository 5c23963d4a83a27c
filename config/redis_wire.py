"""Ingest's after-commit Redis round trip, packed and parsed by hiredis.

Each stored batch sends one pipeline (wake-ups, `event.received`
messages, monitoring's counters). redis-py's asyncio pipeline spent ~150 us
of CPU on five such commands on this machine (its retry wrapper, pool
checkout and a parse coroutine per reply); packing them with hiredis,
writing them at once and parsing the replies with hiredis' reader costs
~45 us. This is only that: one connection per event loop, one pipeline at
a time, replies in order, errors raised after every reply is read (as
redis-py does). Anything else talks to Redis through redis-py.

A URL this does not speak (TLS, a Unix socket) gets redis-py's pipeline.
"""

import asyncio
from typing import Any

import hiredis
from django.conf import settings
from redis.connection import parse_url

TIMEOUT_SECONDS = 2.0


class WireConnection:
    def __init__(self, host: str, port: int, db: int, username: str | None, password: str | None) -> None:
        self._address = (host, port)
        self._hello = [("AUTH", *([username] if username else []), password)] if password else []
        if db:
            self._hello.append(("SELECT", db))
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._lock = asyncio.Lock()

    async def execute(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        async with self._lock:
            try:
                async with asyncio.timeout(TIMEOUT_SECONDS):
                    if self._streams is None:
                        self._streams = await asyncio.open_connection(*self._address)
                        if self._hello:
                            _raise_first_error(await self._round_trip(self._hello))
                    return _raise_first_error(await self._round_trip(commands))
            except BaseException:
                # Whatever was half sent or half read: start over on a new connection.
                self._close()
                raise

    async def _round_trip(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        reader, writer = self._streams
        writer.write(b"".join(hiredis.pack_command(command) for command in commands))
        parser = hiredis.Reader()
        replies: list[Any] = []
        while len(replies) < len(commands):
            reply = parser.gets()
            if reply is False:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                parser.feed(data)
                continue
            replies.append(reply)
        return replies

    def _close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _raise_first_error(replies: list[Any]) -> list[Any]:
    for reply in replies:
        if isinstance(reply, hiredis.ReplyError):
            raise reply
    return replies


class WirePipeline:
    """The part of redis-py's pipeline interface ingest's round trip uses."""

    def __init__(self, connection: WireConnection) -> None:
        self._connection = connection
        self._commands: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._commands)

    def execute_command(self, *args: Any) -> None:
        self._commands.append(args)

    def publish(self, channel: str, message: bytes) -> None:
        self.execute_command("PUBLISH", channel, message)

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> None:
        self.execute_command("EVAL", script, numkeys, *keys_and_args)

    def lpush(self, key: str, *values: Any) -> None:
        self.execute_command("LPUSH", key, *values)

    def ltrim(self, key: str, start: int, end: int) -> None:
        self.execute_command("LTRIM", key, start, end)

    async def execute(self) -> list[Any]:
        if not self._commands:
            return []
        return await self._connection.execute(self._commands)


_connections: dict[asyncio.AbstractEventLoop, WireConnection] = {}


def pipeline():
    """A pipeline on this event loop's connection."""
    loop = asyncio.get_running_loop()
    connection = _connections.get(loop)
    if connection is None:
        url = settings.REDIS_URL
        if not url.startswith("redis://"):
            from monitoring import counters

            return counters.async_client().pipeline(transaction=False)
        options = parse_url(url)
        connection = _connections[loop] = WireConnection(
            options.get("host", "127.0.0.1"), int(options.get("port", 6379)), int(options.get("db", 0)),
            options.get("username"), options.get("password"),
        )
    return WirePipeline(connection)
