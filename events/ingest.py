"""The hot path: `ANY /in/<token>[/<sub/path>]`, as a bare ASGI callable
(`receive_webhook`) and as the steps uvicorn's protocol calls directly
(events/ingest_http.py: `screen`, `arrival_of`, `store_then`).

It skips Django's request cycle and middleware (no session, CSRF or auth
belong here), reads the body with a hard limit, and hands the row to a
per-process Batcher: one INSERT stores every event of the batch, and each
request is answered only after that commit.
Wake-ups for the engines, `event.received` messages and monitoring's
counters go out in one Redis pipeline per batch, and the answer waits for
that pipeline (a bounded moment): a sender that waits for each answer
before the next request sees its webhooks streamed in the order it sent
them, whichever web process took each one.
"""

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config import redis_wire
from config.asgi_body import read_body
from deliveries.destination import encode_sub_path
from endpoints.models import Endpoint, Health, endpoint_group
from endpoints.validation import allowed_response_content_type
from events import limits
from events.answers import Answer
from events.batcher import Batcher, resolve
from events.store import Arrival, Stored, make_store
from monitoring import counters
from monitoring.counters import Tally

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


# A flush lingers only after one of at least LINGER_SIBLINGS webhooks: a
# sender alone, or a few at a moderate rate, never wait for each other.
LINGER_SECONDS = 0.001
LINGER_SIBLINGS = 4

_batcher: Batcher[Arrival, Stored] | None = None
_background: set[asyncio.Task] = set()


def batcher() -> Batcher[Arrival, Stored]:
    global _batcher
    if _batcher is None:
        # One flush at a time, and a flush is the commit and the
        # announcement: what arrives meanwhile waits for the next one. Each
        # flush costs two round trips whatever its size, so the larger the
        # batches the less CPU per webhook. Under load a flush lingers up to
        # LINGER_SECONDS for as many webhooks as the last one carried
        # (wrk -c32 on 2 cores: 7-9 webhooks a batch per process without,
        # ~20 % less server CPU per webhook with it); at rest it never waits.
        _batcher = Batcher(
            _announcing(make_store()), max_inflight=1, linger=LINGER_SECONDS, siblings=LINGER_SIBLINGS
        )
    return _batcher


def _announcing(store):
    """`store`, then the announcement of what it stored: a batch's answers
    wait for both (see AfterCommit)."""

    async def flush(arrivals: list[Arrival]) -> list[Stored]:
        stored = await store(arrivals)
        events = [s for s in stored if s.event is not None]
        if events:
            await after_commit().add(events)
        return stored

    return flush


async def _after_commit(
    stored: list[Stored], published: asyncio.Future | None = None, carried: Tally | None = None
) -> Tally | None:
    """One Redis round trip per batch: the engines' wake-up, the
    `event.received` messages and monitoring's counters, with the counts an
    earlier batch `carried` over; `published` is done as soon as that round
    trip is over, whatever its outcome. Returns the counts this batch's
    repeats add, for the next round trip to carry."""
    from deliveries import wakeups
    from monitoring.intake import Arrivals
    from realtime import envelope, publish

    pipe = redis_wire.pipeline()
    if carried:
        carried.queue(pipe)
    if any(s.wake for s in stored):
        wakeups.queue(pipe)
    publish.queue_many(
        pipe, [(endpoint_group(s.endpoint.public_id), envelope.event_received(s.event.summary())) for s in stored]
    )
    arrivals = None
    try:
        arrivals = Arrivals(stored)
        arrivals.queue(pipe)
    except Exception:  # monitoring must never cost a webhook
        log.exception("monitoring could not count %d stored events", len(stored))
    results = None
    try:
        results = await pipe.execute()
    except Exception:  # the events are stored; engines poll and the sweeper wakes them
        log.exception("could not announce %d stored events: Redis does not answer", len(stored))
    finally:
        if published is not None:
            resolve(published)
    repeats = None
    if arrivals is not None and results is not None:
        try:
            repeats = await arrivals.finish(results)
        except Exception:
            log.exception("monitoring could not count %d stored events", len(stored))
    idle = {s.endpoint.id: s.endpoint for s in stored if s.endpoint.health == Health.INACTIVE}
    # The batcher's cached endpoint still says inactive for a while after the
    # refresh: one refresh per endpoint per interval is enough.
    now = time.monotonic()
    idle = {pk: e for pk, e in idle.items() if now - _health_woken.get(pk, -HEALTH_WAKE_SECONDS) >= HEALTH_WAKE_SECONDS}
    _health_woken.update((pk, now) for pk in idle)
    if idle:
        await sync_to_async(_wake_up_health, thread_sensitive=False)(list(idle.values()))
    return repeats


HEALTH_WAKE_SECONDS = 5.0
_health_woken: dict[int, float] = {}


def _wake_up_health(endpoints: list[Endpoint]) -> None:
    """An inactive endpoint that just received is active again (inboxes too,
    which have no attempts to refresh their health)."""
    from deliveries.health import refresh_health

    try:
        for endpoint in endpoints:
            refresh_health(endpoint)
    finally:
        connection.close()


class AfterCommit:
    """Collects the stored events of a moment and announces them together.

    One drain task at a time, so announcements leave in commit order. A
    flush adds what it stored and awaits the one future of its group; the
    group's future is done once its messages are in Redis, or after
    `ANSWER_WAIT` seconds when Redis is slow, so an answer is never held
    longer than that.
    """

    MAX_BATCH = 1000
    ANSWER_WAIT = 0.25
    # What a batch's repeats add to monitoring's counters waits this long
    # for the next batch's pipeline to carry it, then goes alone: under load
    # it costs no round trip of its own.
    CARRY_WAIT = 1.0

    def __init__(self) -> None:
        self._pending: list[Stored] = []
        self._published: asyncio.Future | None = None
        self._draining = False
        self._carried: Tally | None = None
        self._carry_timer: asyncio.TimerHandle | None = None

    def add(self, stored: list[Stored]) -> asyncio.Future:
        """The future the answers for `stored` wait for."""
        self._pending.extend(stored)
        if self._published is None:
            loop = asyncio.get_running_loop()
            self._published = loop.create_future()
            loop.call_later(self.ANSWER_WAIT, resolve, self._published)
        if not self._draining:
            self._draining = True
            task = asyncio.create_task(self._drain())
            _background.add(task)
            task.add_done_callback(_background.discard)
        return self._published

    async def _drain(self) -> None:
        try:
            while self._pending:
                group, published = self._pending, self._published
                self._pending, self._published = [], None
                for start in range(0, len(group), self.MAX_BATCH):
                    chunk = group[start:start + self.MAX_BATCH]
                    last = start + self.MAX_BATCH >= len(group)
                    carried, self._carried = self._carried, None
                    try:
                        self._carried = await _after_commit(chunk, published if last else None, carried)
                    except Exception:  # the events are stored; the sweeper still forwards them
                        log.exception("announcing %d stored events failed", len(chunk))
                # Answers are released as soon as the last pipeline is through
                # (inside `_after_commit`); this covers a chunk that failed
                # before its pipeline went out.
                resolve(published)
        finally:
            self._draining = False
            if self._carried and self._carry_timer is None:
                self._carry_timer = asyncio.get_running_loop().call_later(self.CARRY_WAIT, self._send_carried)

    def _send_carried(self) -> None:
        self._carry_timer = None
        carried, self._carried = self._carried, None
        if carried:
            task = asyncio.create_task(counters.send_async(carried))
            _background.add(task)
            task.add_done_callback(_background.discard)


_after: AfterCommit | None = None


def after_commit() -> AfterCommit:
    global _after
    if _after is None:
        _after = AfterCommit()
    return _after


# On every answer: a custom body is never sniffed into HTML, and even an
# XML body with XHTML script runs nowhere (opaque origin, no script, no fetch).
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"sandbox; default-src 'none'"),
)
CLOSE = ((b"connection", b"close"),)


def _error(status: int, detail: str, headers: tuple = ()) -> Answer:
    return Answer(status, json.dumps({"detail": detail}).encode(), headers=headers)


UNKNOWN = _error(404, "Unknown ingest URL.")
UNAVAILABLE = _error(503, "Storage is unavailable; retry later.", ((b"retry-after", str(RETRY_AFTER_SECONDS).encode()),))


def too_large() -> Answer:
    return _error(413, f"Body is larger than the limit of {settings.MAX_BODY_BYTES} bytes.", CLOSE)


def answer_headers(answer: Answer) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", answer.content_type), (b"content-length", str(len(answer.body)).encode()),
        *SECURITY_HEADERS, *answer.headers,
    ]


async def _send(send, answer: Answer) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer_headers(answer)})
    await send({"type": "http.response.body", "body": answer.body})


_TOKEN = re.compile(r"[a-z0-9]{32}")


def _parse_path(scope) -> tuple[str, str] | None:
    """(token, sub-path), or None when the token cannot be one of ours.

    From `raw_path`, so the sub-path keeps the sender's percent-encoding
    (`%2F`, `%3F`, `%23` stay what they are) and is forwarded as sent.
    """
    raw = scope.get("raw_path") or scope["path"].encode()
    if not raw.startswith(b"/in/"):
        return None
    token, _, sub = raw[len(b"/in/"):].partition(b"/")
    if _TOKEN.fullmatch(token.decode("latin-1")) is None:
        return None
    return token.decode("ascii"), encode_sub_path(sub)


def screen(scope) -> tuple[str, str] | Answer:
    """(token, sub-path) of a request worth reading, or the answer that
    refuses it from its request line and headers alone."""
    parsed = _parse_path(scope)
    if parsed is None:
        return UNKNOWN
    refused = limits.refusal(scope, parsed[1])
    if refused:
        return _error(*refused, CLOSE)
    return parsed


def arrival_of(scope, parsed: tuple[str, str], body: bytes, received_at) -> Arrival:
    client = scope.get("client")
    return Arrival(
        token=parsed[0],
        method=scope["method"],
        path=parsed[1],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=[[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        body=body,
        source_ip=client[0] if client else None,
        received_at=received_at,
    )


def answer_to(stored: Stored) -> Answer:
    if stored.rejected:
        return _error(400, f"This request cannot be stored: {stored.rejected}")
    if stored.limited:
        return _error(
            429, f"Rate limit of {stored.endpoint.rate_limit} requests per second exceeded.", ((b"retry-after", b"1"),)
        )
    if stored.event is None and stored.answer is None:
        return UNKNOWN
    if stored.answer is not None:  # a handshake, a rejected signature, a dropped duplicate
        return stored.answer
    endpoint = stored.endpoint
    if endpoint.response_status or endpoint.response_body:
        return Answer(
            endpoint.response_status or 200,
            endpoint.response_body.encode(),
            # A row saved before content types were restricted answers as text.
            allowed_response_content_type(endpoint.response_content_type).encode("ascii"),
            ((b"x-hookline-event-id", stored.event.public_id.encode()),),
        )
    return Answer(200, b'{"received": true, "event_id": "%s"}' % stored.event.public_id.encode())


def store_then(arrival: Arrival, reply: Callable[[Answer], None]) -> None:
    """Stores `arrival`, then calls `reply` with its answer: after the
    commit and the announcement (or `ANSWER_WAIT`). A callback, not a task
    per request: the HTTP protocol (events/ingest_http.py) answers from it."""
    batcher().submit_then(arrival, partial(_stored, reply))


def _stored(reply: Callable[[Answer], None], stored: Stored | None, error: Exception | None) -> None:
    if error is not None:
        log.error("ingest could not store a webhook", exc_info=error)
        reply(UNAVAILABLE)
    else:
        reply(answer_to(stored))


async def receive_webhook(scope, receive, send) -> None:
    """The ASGI callable (any ASGI server; uvicorn's HTTP/1.1 takes the
    shortcut in events/ingest_http.py)."""
    received_at = timezone.now()
    screened = screen(scope)
    if isinstance(screened, Answer):
        await _send(send, screened)
        return
    try:
        body = await read_body(scope, receive, settings.MAX_BODY_BYTES)
    except ConnectionAbortedError:
        return
    if body is None:
        await _send(send, too_large())
        return
    answered = asyncio.get_running_loop().create_future()
    store_then(arrival_of(scope, screened, body, received_at), partial(resolve, answered))
    await _send(send, await answered)
