"""Open-loop load at a fixed rate over a pool of keep-alive connections.

Request i is due at t0 + i/rate whatever the server does; a free connection
takes the oldest due request, and latency runs from the *scheduled* time, so
time spent waiting for a connection (or a late dispatcher) counts against
the server (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.config import BODY


@dataclass
class OpenLoopResult:
    scheduled: int
    rate: float
    latencies_s: list[float] = field(default_factory=list)  # of 200 answers
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0  # first scheduled send to last answer
    max_dispatch_lag_s: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses[200]

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return self.scheduled - self.ok

    @property
    def achieved_rate(self) -> float:
        return self.answered / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, pct: float) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        rank = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
        return ordered[rank] * 1000

    @property
    def max_ms(self) -> float | None:
        return max(self.latencies_s) * 1000 if self.latencies_s else None


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Status and body of one request on this connection."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        keep_alive = True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep_alive = False
        body = await self.reader.readexactly(length) if length else b""
        if not keep_alive:
            self.close()
        return status, body


# Called with (scheduled send time, status, body) for every answer.
OnAnswer = Callable[[float, int, bytes], None]


def post_request(host: str, port: int, path: str, body: bytes = BODY) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def drive(
    host: str, port: int, path: str, rate: float, seconds: float, connections: int, timeout: float,
    on_answer: OnAnswer | None = None,
) -> OpenLoopResult:
    """The open loop inside a running event loop (others may share it)."""
    request = post_request(host, port, path)
    total = int(rate * seconds)
    result = OpenLoopResult(scheduled=total, rate=rate)
    pool = [Connection(host, port) for _ in range(connections)]
    await asyncio.wait_for(asyncio.gather(*(c.open() for c in pool)), timeout=10)
    due: asyncio.Queue[float | None] = asyncio.Queue()
    last_answer = 0.0

    async def worker(conn: Connection) -> None:
        nonlocal last_answer
        while True:
            scheduled = await due.get()
            if scheduled is None:
                return
            try:
                status, body = await asyncio.wait_for(conn.exchange(request), timeout)
            except (OSError, EOFError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                result.errors[type(exc).__name__] += 1
                conn.close()
                continue
            answered = time.perf_counter()
            last_answer = max(last_answer, answered)
            result.statuses[status] += 1
            if status == 200:
                result.latencies_s.append(answered - scheduled)
            if on_answer is not None:
                on_answer(scheduled, status, body)

    workers = [asyncio.create_task(worker(conn)) for conn in pool]
    t0 = time.perf_counter() + 0.05
    try:
        for i in range(total):
            scheduled = t0 + i / rate
            wait = scheduled - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            result.max_dispatch_lag_s = max(result.max_dispatch_lag_s, time.perf_counter() - scheduled)
            due.put_nowait(scheduled)
        for _ in workers:
            due.put_nowait(None)
        await asyncio.wait_for(asyncio.gather(*workers), timeout=timeout + 10)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for conn in pool:
            conn.close()
    result.elapsed_s = max(0.0, last_answer - t0)
    unanswered = total - result.answered - sum(result.errors.values())
    if unanswered:
        result.errors["unanswered"] += unanswered
    return result


def run(host: str, port: int, path: str, rate: float, seconds: float, connections: int, timeout: float) -> OpenLoopResult:
    try:
        import uvloop
    except ImportError:  # plain asyncio is fast enough at a few hundred req/s
        return asyncio.run(drive(host, port, path, rate, seconds, connections, timeout))
    return uvloop.run(drive(host, port, path, rate, seconds, connections, timeout))
