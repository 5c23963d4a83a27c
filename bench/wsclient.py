"""Clients of `/v1/ws` (websockets' asyncio client, one event loop for all).

Each client authenticates with the bench user's API key, subscribes to the
bench inbox, answers the server's JSON pings, and records when each
`event.received` reached it (time.perf_counter, the clock the senders use:
client, sender and server share the box).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from bench.procs import BenchError

PONG = json.dumps({"type": "pong"})
POLL_S = 0.005


def raise_fd_limit() -> tuple[int, int]:
    """Soft open-files limit up to the hard one; returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return soft, hard


@dataclass
class Arrivals:
    """When each event reached each client, shared by every client of a load."""

    times: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    other: Counter[str] = field(default_factory=Counter)  # message types other than event.received

    def count(self, event_id: str) -> int:
        return len(self.times.get(event_id, ()))

    async def wait_all(self, event_ids: Iterable[str], per_event: int, seconds: float) -> bool:
        """Until every event reached `per_event` clients, at most `seconds`."""
        ids = list(event_ids)
        deadline = time.perf_counter() + seconds
        for _ in range(int(seconds / POLL_S) + 2):
            if all(self.count(event_id) >= per_event for event_id in ids):
                return True
            if time.perf_counter() >= deadline:
                break
            await asyncio.sleep(POLL_S)
        return False


class Refused(Exception):
    """The server closed the socket instead of answering `subscribed`."""


class Client:
    def __init__(self, ws: ClientConnection, arrivals: Arrivals) -> None:
        self.ws = ws
        self.arrivals = arrivals
        self.subscribed = asyncio.Event()
        self.pongs = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws, arrivals = self.ws, self.arrivals
        try:
            async for raw in ws:
                now = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "event.received":
                    arrivals.times[message["data"]["id"]].append(now)
                elif kind == "ping":
                    await ws.send(PONG)
                    self.pongs += 1
                elif kind == "subscribed":
                    self.subscribed.set()
                else:
                    arrivals.other[str(kind)] += 1
        except ConnectionClosed:
            return  # the server or the bench closed it: the counts stand

    @property
    def open(self) -> bool:
        return not self.reader.done()

    async def close(self) -> None:
        """A normal close handshake (the server cleans up its side)."""
        await self.ws.close()
        await asyncio.wait([self.reader], timeout=2)
        self.abort()

    def abort(self) -> None:
        """Drop the TCP connection at once, no close handshake."""
        self.reader.cancel()
        self.ws.transport.abort()


async def open_client(url: str, endpoint_id: str, arrivals: Arrivals, timeout: float) -> Client:
    """Connected and subscribed (the server said `subscribed`)."""
    # ping_interval=None: no pings of our own; websockets still answers the
    # server's protocol pings, and Client answers its JSON ones.
    ws = await connect(url, open_timeout=timeout, ping_interval=None, close_timeout=1)
    client = Client(ws, arrivals)
    try:
        await ws.send(json.dumps({"type": "subscribe", "endpoints": [endpoint_id]}))
        waiting = asyncio.create_task(client.subscribed.wait())
        await asyncio.wait([waiting, client.reader], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not client.subscribed.is_set():
            code = ws.close_code
            raise Refused(f"closed with {code}" if code is not None else "no answer to subscribe")
    except BaseException:
        client.abort()
        raise
    return client


@dataclass
class Opened:
    clients: list[Client]
    errors: Counter[str]
    seconds: float

    @property
    def extensions(self) -> str:
        """What the server agreed to (permessage-deflate or nothing)."""
        if not self.clients or self.clients[0].ws.response is None:
            return ""
        return self.clients[0].ws.response.headers.get("Sec-WebSocket-Extensions", "")


async def open_many(
    url: str, endpoint_id: str, arrivals: Arrivals, count: int, concurrency: int, timeout: float,
) -> Opened:
    """`count` subscribed clients, at most `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)
    clients: list[Client] = []
    errors: Counter[str] = Counter()

    async def one() -> None:
        async with gate:
            try:
                clients.append(await open_client(url, endpoint_id, arrivals, timeout))
            except (OSError, asyncio.TimeoutError, WebSocketException, Refused) as exc:
                errors[f"{type(exc).__name__}: {exc}"[:80]] += 1

    started = time.perf_counter()
    # Each handshake is bounded by `timeout`; so is the whole, in rounds.
    overall = (count / concurrency + 1) * timeout
    try:
        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), overall)
    except BaseException as exc:
        abort_all(clients)
        if isinstance(exc, asyncio.TimeoutError):
            raise BenchError(f"opening {count} WebSockets took over {overall:.0f}s") from None
        raise
    return Opened(clients, errors, time.perf_counter() - started)


def abort_all(clients: list[Client]) -> None:
    for client in clients:
        client.abort()


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile, like the open loop's."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]
