"""The forwarding engine of one worker process.

Three threads share the work. The driver owns claiming: it claims due
events in batches (`claims`) and hands them to one asyncio event loop that
sends them all at once over pooled connections (`outbound`). The recorder
records finished attempts in batches (`recording`) as they come back, on
its own database connection, so a new event never waits behind a
recording and a slow destination never holds up a batch of fast ones.
Each endpoint has at most DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT requests open
per process; claims take that many of each endpoint, ROUNDS_AHEAD times
that of an endpoint whose last answers came fast (so sending goes on while
the driver claims the next batch), and at most DELIVERY_CONCURRENCY in all.

Ingest wakes an idle driver through a short Redis list (`wakeups`) when it
stores due events, Celery tasks do so after replays and resumes, and beat's
sweeper wakes it as a safety net; between wake-ups it looks for due retries
every DELIVERY_POLL_SECONDS. A finished attempt wakes the driver only when
its last claim was cut short by a cap, since only then may more be waiting.
Everything it knows is in the database: a process killed mid-batch leaves
claimed events that are due again once their lease runs out.
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
from django.db import InterfaceError, OperationalError, connection
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
        self._finished: queue.SimpleQueue[Sent] = queue.SimpleQueue()  # for the recorder
        self._freed: queue.SimpleQueue[Sent] = queue.SimpleQueue()  # slots the driver gets back
        self._capped = False  # the last claim stopped at a cap: a freed slot may let more through
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
        self._recorder = threading.Thread(target=self._record, name="forwarding-recorder", daemon=True)

    def start(self) -> None:
        threading.Thread(target=self._loop.run_forever, name="forwarding-sender", daemon=True).start()
        self._session = asyncio.run_coroutine_threadsafe(self._open_session(), self._loop).result(10)
        self._driver.start()
        self._recorder.start()
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
        deadline = time.monotonic() + grace
        self._driver.join(grace)
        self._recorder.join(max(0.0, deadline - time.monotonic()))
        if self._session is not None:
            with contextlib.suppress(Exception):  # shutting down: only the warning is avoided
                asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(2)

    def _drive(self) -> None:
        while not (self._stopping.is_set() and self._in_flight == 0):
            self._idle.set()
            self._signal.wait(self.poll_seconds)
            self._idle.clear()
            self._signal.clear()
            self._guarded(self.step)
        connection.close()

    def _record(self) -> None:
        """The recorder thread: record finished attempts as they come, a batch
        at a time, until the driver is done and nothing is left."""
        while True:
            try:
                finished = [self._finished.get(timeout=self.poll_seconds)]
            except queue.Empty:
                finished = []
            finished += _drain(self._finished)
            if not finished and not self._driver.is_alive():
                break
            self._guarded(lambda: self.record(finished))
        connection.close()

    def _guarded(self, work) -> None:
        try:
            work()
        except Exception:
            # Postgres down, a lost connection: attempts not recorded are
            # sent again after their lease, so the engine only has to go on.
            log.exception("forwarding engine step failed; trying again in a second")
            connection.close()
            self._stopping.wait(1)

    def step(self) -> None:
        """Take back the slots of finished attempts, then claim and send. A
        finished attempt's event stays claimed until the recorder has
        recorded it, so no one claims it twice."""
        finished = _drain(self._freed)
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
        if not self._stopping.is_set():
            self._claim_and_send()

    def record(self, finished: list[Sent]) -> None:
        """Record a batch. Its statement is tried once more on a fresh
        connection when the recorder's own has broken since its last batch
        (PostgreSQL restarted, an administrator cut it) or lost a deadlock:
        an unrecorded attempt is sent again after its lease, so giving up at
        once would turn every restart into duplicates. Settling is guarded
        by the claim, so a second try never records anything twice."""
        try:
            record_attempts(finished)
        except (OperationalError, InterfaceError) as exc:
            log.warning("recording %d attempts failed (%s); once more on a new connection", len(finished), exc)
            connection.close()
            record_attempts(finished)
        self._health.touch([sent.event.endpoint for sent in finished])
        self._health.refresh_due()

    def _claim_and_send(self) -> None:
        free = self.capacity - self._in_flight
        self._capped = free <= 0
        if self._capped:
            return
        now = timezone.now()
        room = Room(self.per_endpoint, self._busy, cap=self.per_endpoint, fast=frozenset(self._fast))
        events = claim_due(now, free, room, after=self._cursor)
        if len(events) < free and self._cursor:
            # Every endpoint after the cursor had its turn: wrap around.
            busy = self._busy + Counter(event.endpoint_id for event in events)
            rest = Room(self.per_endpoint, busy, cap=self.per_endpoint, fast=frozenset(self._fast))
            events += claim_due(now, free - len(events), rest, after=0)
            self._cursor = 0
        elif len(events) == free:
            self._cursor = max(event.endpoint_id for event in events)
        self._capped = len(events) == free or _room_filled(room, events)
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
        sent = pending.sent(response)
        self._finished.put(sent)
        self._freed.put(sent)
        if self._capped or self._stopping.is_set():
            self._signal.set()


def _drain(finished: queue.SimpleQueue[Sent]) -> list[Sent]:
    taken = []
    while True:
        try:
            taken.append(finished.get_nowait())
        except queue.Empty:
            return taken


def _room_filled(room: Room, events: list[Event]) -> bool:
    """Whether some endpoint got all the room it had (more may be due)."""
    return any(room.of(pk) <= n for pk, n in Counter(event.endpoint_id for event in events).items())


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
