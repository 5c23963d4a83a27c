"""A lean HTTP/1.1 client for the forwarding sections' load: POST a fixed
body over keep-alive connections and read back the event id.

aiohttp's client cost about as much CPU per request as the web server's
whole ingest (the load generator shares the 2 cores with everything it
measures: posting 5,000 events reached ~1,700 req/s with no worker running,
one core spent on the client alone). This one writes prebuilt request bytes
and parses only the status line, content-length and the JSON answer, as
wrk does for the ingest section.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from bench.config import BODY


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiting: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(ConnectionError("closed by the server"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].split(b"\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return
        body = self.buffer[end + 4:end + 4 + length]
        self.buffer = self.buffer[end + 4 + length:]
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result((int(head[0].split(b" ")[1]), body))

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiting = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiting


class Poster:
    """Up to `connections` keep-alive connections to one server."""

    def __init__(self, host: str, port: int, connections: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.size = connections
        self.idle: asyncio.Queue[_Connection] = asyncio.Queue()

    async def __aenter__(self) -> Poster:
        for _ in range(self.size):
            self.idle.put_nowait(await self._connect())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        while not self.idle.empty():
            connection = self.idle.get_nowait()
            if connection.transport is not None:
                connection.transport.close()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Connection, self.host, self.port)
        return protocol

    def request(self, token: str) -> bytes:
        return (
            f"POST /in/{token} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(BODY)}\r\n\r\n"
        ).encode() + BODY

    async def post(self, request: bytes) -> str | None:
        """The stored event's id, or None for anything but a 200."""
        connection = await self.idle.get()
        try:
            status, body = await asyncio.wait_for(connection.exchange(request), self.timeout)
        except (ConnectionError, OSError, TimeoutError):
            if connection.transport is not None:
                connection.transport.close()
            connection = None
            return None
        finally:
            if connection is None or connection.closed:
                with contextlib.suppress(OSError):
                    connection = await self._connect()
            if connection is not None:
                self.idle.put_nowait(connection)
        if status != 200:
            return None
        try:
            return json.loads(body)["event_id"]
        except (ValueError, KeyError):
            return None
