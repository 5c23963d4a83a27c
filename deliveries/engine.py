"""The forwarding engine of one worker process.

One driver thread owns the database side: it claims due events in batches
(`claims`), hands them to one asyncio event loop that sends them all at
once over pooled connections (`outbound`), and records finished attempts in
batches (`recording`) as they come back, so a slow destination never holds
up a batch of fast ones. Each endpoint has at most
DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT requests open per process; claims take
that many of each endpoint, ROUNDS_AHEAD times that of an endpoint whose
last answers came fast (so sending goes on while the driver records and
claims), and at most DELIVERY_CONCURRENCY in all.

Ingest wakes an idle driver through a short Redis list (`wakeups`) when it
stores due events, Celery tasks do so after replays and resumes, and beat's sweeper
wakes it as a safety net; between wake-ups it looks for due retries every
DELIVERY_POLL_SECONDS. Everything it knows is
in the database: a process killed mid-batch leaves claimed events that are
due again once their lease runs out.
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from deliveries import forwarding, outbound, wakeups
from deliveries.claims import Room, claim_due, claim_one, claim_replay
from deliveries.health import HealthRefresher
from deliveries.models import DeliveryAttempt, Outcome
from deliveries.recording import Sent, record_attempts
from events.models import Event

log = logging.getLogger(__name__)

# An endpoint answering within this is claimed several rounds ahead (claims).
FAST_ANSWER_MS = 1000
FAST_MEMORY_SECONDS = 10.0


@dataclass
class Pending:
    """An attempt about to be sent."""

    event: Event
    request: outbound.Request
    started_at: datetime  # set again when a slot opens and the request goes out

    def sent(self, response: outbound.Response) -> Sent:
        return Sent(self.event, self.request.url, self.request.headers, self.started_at, response)


def prepare(events: list[Event]) -> list[Pending]:
    """The signed requests for claimed events (sendable ones only)."""
    timestamp = int(time.time())
    started_at = timezone.now()
    return [
        Pending(
            event,
            outbound.Request(
                event.method, forwarding.destination_for(event), forwarding.request_headers(event, timestamp),
                event.body_bytes, event.endpoint.timeout_seconds,
            ),
            started_at,
        )
        for event in events
    ]


def deliver_due(limit: int = 100) -> list[DeliveryAttempt]:
    """One synchronous round in the calling thread: claim, send all, record.

    The engine does the same continuously; this form serves callers that
    need the round to be over before they look (tests, above all).
    """
    room = Room(settings.DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT, {})
    return _deliver(claim_due(timezone.now(), limit, room))


def forward(event_id: int) -> DeliveryAttempt | None:
    """Make this event's due attempt now in the calling thread, if it is
    still due (bulk replay counts each outcome itself). Safe to run twice."""
    attempts = _deliver(claim_one(timezone.now(), event_id))
    return attempts[0] if attempts else None


def replay_now(event: Event) -> DeliveryAttempt | None:
    """A new round of attempts on the event, its first one made here and now
    (bulk replay counts each outcome). A paused endpoint holds the event."""
    if event.endpoint.paused or not event.endpoint.destination_url:
        forwarding.replay(event)
        return None
    attempts = _deliver(claim_replay(timezone.now(), event))
    return attempts[0] if attempts else None


def _deliver(claimed: list[Event]) -> list[DeliveryAttempt]:
    pending = prepare(forwarding.set_aside(claimed))
    if not connection.in_atomic_block:
        connection.close()  # hand the pooled connection back while we wait on the network
    responses = outbound.send_many([p.request for p in pending])
    attempts = record_attempts([p.sent(response) for p, response in zip(pending, responses)])
    health = HealthRefresher(0)
    health.touch([p.event.endpoint for p in pending])
    health.refresh_due(force=True)
    return attempts


class Engine:
    def __init__(self, capacity: int, per_endpoint: int, poll_seconds: float, health_interval: float) -> None:
        self.capacity = capacity
        self.per_endpoint = per_endpoint
        self.poll_seconds = poll_seconds
        self._signal = threading.Event()
        self._idle = threading.Event()  # the driver waits for work (wakeups.listen)
        self._stopping = threading.Event()
        self._finished: queue.SimpleQueue[Sent] = queue.SimpleQueue()
        self._busy: Counter[int] = Counter()  # endpoint pk -> claimed here, not yet recorded
        self._in_flight = 0
        self._cursor = 0  # claims start after this endpoint pk, so every endpoint gets a turn
        # Endpoint pk -> when its last attempt was answered within FAST_ANSWER_MS.
        self._fast: dict[int, float] = {}
        self._health = HealthRefresher(health_interval)
        self._tasks: set[asyncio.Task] = set()
        # Sender loop only: endpoint pk -> its cap on open requests, and how
        # many of its attempts hold or wait for the gate (to drop idle gates).
        self._gates: dict[int, asyncio.Semaphore] = {}
        self._queued: Counter[int] = Counter()
        self._loop = asyncio.new_event_loop()
        self._session: outbound.aiohttp.ClientSession | None = None
        self._driver = threading.Thread(target=self._drive, name="forwarding-driver", daemon=True)

    def start(self) -> None:
        threading.Thread(target=self._loop.run_forever, name="forwarding-sender", daemon=True).start()
        self._session = asyncio.run_coroutine_threadsafe(self._open_session(), self._loop).result(10)
        self._driver.start()
        threading.Thread(
            target=wakeups.listen, args=(self.wake, self._idle, self._stopping), name="forwarding-wakeups",
            daemon=True,
        ).start()

    async def _open_session(self) -> outbound.aiohttp.ClientSession:
        return outbound.new_session()

    def wake(self) -> None:
        self._signal.set()

    def stop(self, grace: float) -> None:
        """Claim nothing more; give attempts in flight `grace` seconds to be recorded."""
        self._stopping.set()
        self._signal.set()
        self._driver.join(grace)
        if self._session is not None:
            with contextlib.suppress(Exception):  # shutting down: only the warning is avoided
                asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(2)

    def _drive(self) -> None:
        while not (self._stopping.is_set() and self._in_flight == 0):
            self._idle.set()
            self._signal.wait(self.poll_seconds)
            self._idle.clear()
            self._signal.clear()
            try:
                self.step()
            except Exception:
                # Postgres down, a lost connection: attempts not recorded are
                # sent again after their lease, so the engine only has to go on.
                log.exception("forwarding engine step failed; trying again in a second")
                connection.close()
                self._stopping.wait(1)
        connection.close()

    def step(self) -> None:
        """Claim and send first (new events wait on nothing), then record
        what came back meanwhile. A finished attempt frees its slot at once;
        its event stays claimed until recorded, so no one claims it twice."""
        finished = self._collect()
        for sent in finished:
            self._busy[sent.event.endpoint_id] -= 1
            self._in_flight -= 1
        self._busy += Counter()  # drops endpoints with nothing in flight
        now = time.monotonic()
        for sent in finished:
            answered = sent.response.outcome in (Outcome.SUCCESS, Outcome.HTTP_ERROR)
            if answered and sent.response.duration_ms < FAST_ANSWER_MS:
                self._fast[sent.event.endpoint_id] = now
            else:
                self._fast.pop(sent.event.endpoint_id, None)
        self._fast = {pk: at for pk, at in self._fast.items() if now - at < FAST_MEMORY_SECONDS}
        try:
            if not self._stopping.is_set():
                self._claim_and_send()
        finally:
            record_attempts(finished)
        self._health.touch([sent.event.endpoint for sent in finished])
        self._health.refresh_due()

    def _collect(self) -> list[Sent]:
        finished = []
        while True:
            try:
                finished.append(self._finished.get_nowait())
            except queue.Empty:
                return finished

    def _claim_and_send(self) -> None:
        free = self.capacity - self._in_flight
        if free <= 0:
            return
        now = timezone.now()
        room = Room(self.per_endpoint, self._busy, cap=self.per_endpoint, fast=frozenset(self._fast))
        events = claim_due(now, free, room, after=self._cursor)
        if len(events) < free and self._cursor:
            # Every endpoint after the cursor had its turn: wrap around.
            busy = self._busy + Counter(event.endpoint_id for event in events)
            room = Room(self.per_endpoint, busy, cap=self.per_endpoint, fast=frozenset(self._fast))
            events += claim_due(now, free - len(events), room, after=0)
            self._cursor = 0
        elif len(events) == free:
            self._cursor = max(event.endpoint_id for event in events)
        pending = prepare(forwarding.set_aside(events))
        if not pending:
            return
        for p in pending:
            self._busy[p.event.endpoint_id] += 1
            self._in_flight += 1
        self._loop.call_soon_threadsafe(self._start_sending, pending)

    def _start_sending(self, pending: list[Pending]) -> None:
        for p in pending:
            task = self._loop.create_task(self._send(p))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, pending: Pending) -> None:
        assert self._session is not None
        endpoint_pk = pending.event.endpoint_id
        gate = self._gates.setdefault(endpoint_pk, asyncio.Semaphore(self.per_endpoint))
        self._queued[endpoint_pk] += 1
        try:
            async with gate:
                pending.started_at = timezone.now()
                response = await outbound.send_async(self._session, pending.request)
        finally:
            self._queued[endpoint_pk] -= 1
            if not self._queued[endpoint_pk]:
                del self._queued[endpoint_pk], self._gates[endpoint_pk]
        self._finished.put(pending.sent(response))
        self._signal.set()


_engine: Engine | None = None
_engine_lock = threading.Lock()


def running() -> Engine:
    """This process's engine, started on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine(
                capacity=settings.DELIVERY_CONCURRENCY,
                per_endpoint=settings.DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT,
                poll_seconds=settings.DELIVERY_POLL_SECONDS,
                health_interval=settings.HEALTH_REFRESH_SECONDS,
            )
            _engine.start()
        return _engine


def stop(grace: float = 10.0) -> None:
    if _engine is not None:
        _engine.stop(grace)
