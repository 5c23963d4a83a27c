"""The WebSocket loads: receive -> client latency, fan-out, idle connections.

Each runs in one uvloop event loop in the bench process (senders and
WebSocket clients together, so both read the same clock) and always drops
its sockets before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench import openloop
from bench.cpu import group_cpu_seconds
from bench.openloop import Connection, OpenLoopResult
from bench.wsclient import Arrivals, Client, abort_all, open_client, open_many

T = TypeVar("T")

# After the clients drop their sockets: how long the server may take to
# run every consumer's disconnect (its errors then reach the log).
DRAIN_S = 10.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


@dataclass(frozen=True)
class Target:
    """Where the load goes: the ingest URL and the stream of the same inbox."""

    host: str
    port: int
    ingest_path: str
    endpoint_id: str
    api_key: str

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/ws?token={self.api_key}"


def _event_id(status: int, body: bytes) -> str | None:
    if status != 200:
        return None
    return str(json.loads(body)["event_id"])


# Receive -> WebSocket client at a fixed rate


@dataclass
class LatencyResult:
    load: OpenLoopResult
    warmup: OpenLoopResult
    latencies_s: list[float]  # WebSocket receipt - scheduled send, per event
    after_answer_s: list[float]  # WebSocket receipt - the 200 answer, per event
    sent: int  # 200 answers
    received: int  # of those, how many reached the client
    strays: int  # event.received for events this load did not send
    other: Counter[str]
    snapshot: str = ""


async def latency(
    to: Target, rate: float, seconds: float, warmup_s: float, connections: int, timeout: float, wait_s: float,
    while_connected: Callable[[], str] | None = None,
) -> LatencyResult:
    arrivals = Arrivals()
    client = await open_client(to.ws_url, to.endpoint_id, arrivals, timeout)
    try:
        warm_ids: list[str] = []

        def on_warm(_scheduled: float, status: int, body: bytes) -> None:
            if (event_id := _event_id(status, body)) is not None:
                warm_ids.append(event_id)

        warmup = await openloop.drive(to.host, to.port, to.ingest_path, rate, warmup_s, connections, timeout, on_warm)
        await arrivals.wait_all(warm_ids, 1, wait_s)

        scheduled: dict[str, float] = {}
        answered: dict[str, float] = {}

        def on_answer(at: float, status: int, body: bytes) -> None:
            if (event_id := _event_id(status, body)) is not None:
                scheduled[event_id] = at
                answered[event_id] = time.perf_counter()

        load = await openloop.drive(to.host, to.port, to.ingest_path, rate, seconds, connections, timeout, on_answer)
        await arrivals.wait_all(scheduled, 1, wait_s)
        snapshot = while_connected() if while_connected else ""
    finally:
        client.abort()
    got = {event_id: times[0] for event_id, times in arrivals.times.items() if event_id in scheduled}
    known = set(scheduled) | set(warm_ids)
    return LatencyResult(
        load=load,
        warmup=warmup,
        latencies_s=[at - scheduled[event_id] for event_id, at in got.items()],
        after_answer_s=[at - answered[event_id] for event_id, at in got.items()],
        sent=len(scheduled),
        received=len(got),
        strays=sum(len(times) for event_id, times in arrivals.times.items() if event_id not in known),
        other=arrivals.other,
        snapshot=snapshot,
    )


# One event to many subscribed clients


@dataclass
class FanoutEvent:
    sent_at: float
    status: int
    event_id: str | None
    delays_s: list[float] = field(default_factory=list)  # per client that got it, receipt - POST

    @property
    def last_s(self) -> float | None:
        return max(self.delays_s) if self.delays_s else None


@dataclass
class FanoutResult:
    clients: int
    connect_s: float
    connect_errors: Counter[str]
    warmup: FanoutEvent
    events: list[FanoutEvent]
    client_cpu_s: float  # this process, while the scored events went out
    server_cpu_s: float  # the server's process group, same window
    other: Counter[str]
    snapshot: str = ""
    drained_s: float | None = None  # until the server closed its side once the clients dropped
    extensions: str = ""


async def fanout(
    to: Target, clients: int, concurrency: int, events: int, interval_s: float, timeout: float, wait_s: float,
    server_pgid: int, while_connected: Callable[[], str] | None = None,
) -> FanoutResult:
    arrivals = Arrivals()
    opened = await open_many(to.ws_url, to.endpoint_id, arrivals, clients, concurrency, timeout)
    conn = Connection(to.host, to.port)
    request = openloop.post_request(to.host, to.port, to.ingest_path)
    sent: list[FanoutEvent] = []
    try:
        await asyncio.wait_for(conn.open(), timeout)
        snapshot = while_connected() if while_connected else ""
        # Event 0 warms the path up (first publish to this group) and is not scored.
        warm = await _fan_one(conn, request, timeout)
        await arrivals.wait_all([warm.event_id] if warm.event_id else [], len(opened.clients), wait_s)
        cpu0, server0 = time.process_time(), group_cpu_seconds(server_pgid)
        t0 = time.perf_counter() + interval_s
        for i in range(events):
            wait = t0 + i * interval_s - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            sent.append(await _fan_one(conn, request, timeout))
        await arrivals.wait_all([e.event_id for e in sent if e.event_id], len(opened.clients), wait_s)
        client_cpu, server_cpu = time.process_time() - cpu0, group_cpu_seconds(server_pgid) - server0
    finally:
        conn.close()
        abort_all(opened.clients)
    drained = await wait_sockets_settle(server_pgid, DRAIN_S)
    for event in [warm, *sent]:
        if event.event_id is not None:
            event.delays_s = [at - event.sent_at for at in arrivals.times.get(event.event_id, [])]
    return FanoutResult(
        clients=len(opened.clients), connect_s=opened.seconds, connect_errors=opened.errors, warmup=warm,
        events=sent, client_cpu_s=client_cpu, server_cpu_s=server_cpu, other=arrivals.other, snapshot=snapshot,
        drained_s=drained, extensions=opened.extensions,
    )


async def _fan_one(conn: Connection, request: bytes, timeout: float) -> FanoutEvent:
    sent_at = time.perf_counter()
    status, body = await asyncio.wait_for(conn.exchange(request), timeout)
    return FanoutEvent(sent_at, status, _event_id(status, body))


# Idle connections held by one server process


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def socket_fds(pid: int) -> int:
    count = 0
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # gone
        return 0
    for fd in fds:
        with contextlib.suppress(OSError):  # closed between listing and reading
            if fd.readlink().name.startswith("socket:"):
                count += 1
    return count


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            if int(raw[raw.rfind(")") + 2:].split()[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def group_sockets(pgid: int) -> int:
    """Open sockets of a server (all processes of its group)."""
    return sum(socket_fds(pid) for pid in group_pids(pgid))


async def wait_sockets_settle(pgid: int, seconds: float, still_s: float = 0.5) -> float | None:
    """Seconds until the server's socket count stopped falling (unchanged for
    `still_s`): it has run the disconnects. None: not within `seconds`."""
    started = time.perf_counter()
    last, changed = group_sockets(pgid), started
    for _ in range(int(seconds / 0.05) + 1):
        await asyncio.sleep(0.05)
        now, count = time.perf_counter(), group_sockets(pgid)
        if count != last:
            last, changed = count, now
        elif now - changed >= still_s:
            return changed - started
        if now - started >= seconds:
            break
    return None


@dataclass
class IdleResult:
    rest_kib: int
    held_kib: int
    rest_sockets: int
    held_sockets: int
    clients: int
    still_open: int  # of them, still open when the second figure was read
    connect_s: float
    connect_errors: Counter[str]
    other: Counter[str]
    snapshot: str = ""
    drained_s: float | None = None
    extensions: str = ""


async def idle(
    to: Target, pid: int, count: int, concurrency: int, timeout: float, settle_s: float,
    while_connected: Callable[[], str] | None = None,
) -> IdleResult:
    arrivals = Arrivals()
    # Warm-up: a few webhooks, and one socket that subscribes, receives one
    # and closes, so imports, pools and the layer's Redis connections are
    # there before the figure at rest.
    conn = Connection(to.host, to.port)
    request = openloop.post_request(to.host, to.port, to.ingest_path)
    try:
        for _ in range(3):
            await asyncio.wait_for(conn.exchange(request), timeout)
        warm: Client = await open_client(to.ws_url, to.endpoint_id, arrivals, timeout)
        status, body = await asyncio.wait_for(conn.exchange(request), timeout)
        event_id = _event_id(status, body)
        await arrivals.wait_all([event_id] if event_id else [], 1, timeout)
        await warm.close()
    finally:
        conn.close()
    await asyncio.sleep(settle_s)
    rest_kib, rest_sockets = rss_kib(pid), socket_fds(pid)
    opened = await open_many(to.ws_url, to.endpoint_id, arrivals, count, concurrency, timeout)
    try:
        await asyncio.sleep(settle_s)
        held_kib, held_sockets = rss_kib(pid), socket_fds(pid)
        still_open = sum(1 for client in opened.clients if client.open)
        snapshot = while_connected() if while_connected else ""
    finally:
        abort_all(opened.clients)
    drained = await wait_sockets_settle(pid, DRAIN_S)
    return IdleResult(
        rest_kib=rest_kib, held_kib=held_kib, rest_sockets=rest_sockets, held_sockets=held_sockets,
        clients=len(opened.clients), still_open=still_open, connect_s=opened.seconds,
        connect_errors=opened.errors, other=arrivals.other, snapshot=snapshot, drained_s=drained,
        extensions=opened.extensions,
    )
