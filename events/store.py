"""Storing a batch of arrivals: one token lookup and one INSERT per batch.

Two ways to the same rows:
- `store_sync` goes through the ORM on an executor thread; it serves SQLite
  (`make run`'s zero-config default) and any other database.
- `PostgresStore` talks to PostgreSQL straight from the event loop on one
  asyncpg connection (config/loop_connection.py): no thread hand-off, no
  ORM compilation, and the batch in one INSERT. On this machine that is
  the difference between ~900 and ~1,900 ingested webhooks per second
  (bench/ measures both).
Both plan the rows the same way (`plan`), so they cannot disagree on what an
event looks like.
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models.base import ModelState

from config.loop_connection import LoopConnection
from endpoints.models import Endpoint
from events import dedup, inspection, ratelimit, search
from events.endpoint_cache import EndpointCache
from events.answers import Answer
from events.models import Event, EventStatus, SearchBacklog


@dataclass
class Arrival:
    token: str
    method: str
    path: str
    query: str
    headers: list[list[str]]
    body: bytes
    source_ip: str | None
    received_at: datetime


@dataclass
class Stored:
    event: Event | None  # None: unknown token, or over the rate limit
    endpoint: Endpoint | None = None
    wake: bool = False
    limited: bool = False
    rejected: str = ""  # the database refused this row (e.g. a NUL byte)
    answer: Answer | None = None  # answered by ingest itself (handshake, signature, duplicate)
    dedup_key: str = ""
    # Inspection's parse of the request (set with every event), reused by
    # monitoring after the commit (events/inspection.py).
    headers: dict[str, str] | None = None
    document: Any = None


def _content_type(headers: list[list[str]]) -> str:
    for name, value in headers:
        if name == "content-type":
            return value[:255]
    return ""


def wanted_allowances(arrivals: list[Arrival], endpoints: dict[str, Endpoint]) -> dict[int, tuple[int, int]]:
    """Endpoint pk -> (rate limit, arrivals in this batch), for limited endpoints."""
    wanted: dict[int, tuple[int, int]] = {}
    for arrival in arrivals:
        endpoint = endpoints.get(arrival.token)
        if endpoint is not None and endpoint.rate_limit:
            limit, count = wanted.get(endpoint.id, (endpoint.rate_limit, 0))
            wanted[endpoint.id] = (limit, count + 1)
    return wanted


_EVENT_DEFAULTS = {field.attname: field.get_default() for field in Event._meta.concrete_fields}
_CALLABLE_DEFAULTS = tuple(
    (field.attname, field.get_default) for field in Event._meta.concrete_fields
    if field.has_default() and callable(field.default)
)


def unsaved_event(endpoint: Endpoint, **values) -> Event:
    """`Event(endpoint=endpoint, **values)` without `Model.__init__`, which
    walks every field and sends two signals (no receiver listens for Event:
    tests/events/test_ingest_queries.py checks): a third of planning's CPU."""
    event = Event.__new__(Event)
    state = ModelState()
    state.fields_cache = {"endpoint": endpoint}
    event._state = state
    attributes = event.__dict__
    attributes.update(_EVENT_DEFAULTS)
    for name, default in _CALLABLE_DEFAULTS:  # a fresh id, list or dict per event
        attributes[name] = default()
    attributes["endpoint_id"] = endpoint.id
    attributes.update(values)
    return event


def plan(arrivals: list[Arrival], endpoints: dict[str, Endpoint], allowed: dict[int, int]) -> list[Stored]:
    """One Stored per arrival, in order; its Event is built but not saved."""
    results: list[Stored] = []
    now = time.time()
    for arrival in arrivals:
        endpoint = endpoints.get(arrival.token)
        if endpoint is None:
            results.append(Stored(event=None))
            continue
        if endpoint.id in allowed:
            if allowed[endpoint.id] == 0:
                results.append(Stored(event=None, endpoint=endpoint, limited=True))
                continue
            allowed[endpoint.id] -= 1
        forwards = bool(endpoint.destination_url) and not endpoint.paused
        due = arrival.received_at if forwards else None
        event = unsaved_event(
            endpoint,
            method=arrival.method,
            path=arrival.path,
            query=arrival.query,
            headers=arrival.headers,
            body=arrival.body,
            size=len(arrival.body),
            source_ip=arrival.source_ip,
            content_type=_content_type(arrival.headers),
            received_at=arrival.received_at,
            status=EventStatus.HELD if endpoint.paused else EventStatus.RECEIVED,
            next_attempt_at=due,
            enqueued_at=due,
        )
        found = inspection.inspect(event, endpoint, now)
        results.append(
            Stored(
                event=event, endpoint=endpoint, wake=forwards and found.forwards, answer=found.answer,
                dedup_key=found.dedup_key, headers=found.headers, document=found.document,
            )
        )
    return results


# --- any database, through the ORM -------------------------------------------


def store_sync(arrivals: list[Arrival]) -> list[Stored]:
    try:
        return _store_sync_retrying(arrivals)
    except DataError:
        # One bad row must not fail the others of its batch: store them one
        # by one, and refuse only the row the database refuses.
        return [_store_alone(arrival) for arrival in arrivals]
    finally:
        # Return the pooled connection: this runs on an executor thread.
        connection.close()


def _store_alone(arrival: Arrival) -> Stored:
    try:
        return _store_sync_retrying([arrival])[0]
    except DataError as exc:
        return Stored(event=None, rejected=str(exc).splitlines()[0])


def _store_sync_retrying(arrivals: list[Arrival]) -> list[Stored]:
    try:
        return store_sync_once(arrivals)
    except IntegrityError:
        # An endpoint was deleted between our lookup and our insert; looking
        # the tokens up again drops it (its senders get 404) and keeps the rest.
        return store_sync_once(arrivals)


def store_sync_once(arrivals: list[Arrival]) -> list[Stored]:
    claimed: list[str] = []
    try:
        with transaction.atomic():
            tokens = {arrival.token for arrival in arrivals}
            endpoints = {e.ingest_token: e for e in Endpoint.objects.filter(ingest_token__in=tokens)}
            results = plan(arrivals, endpoints, ratelimit.allowances(wanted_allowances(arrivals, endpoints)))
            claimed = dedup.claim(results)
            events = Event.objects.bulk_create([stored.event for stored in results if stored.event is not None])
            search.index(events)
    except BaseException:
        dedup.release(claimed)
        raise
    return results


# --- PostgreSQL, from the event loop -----------------------------------------

# What ingest reads of an endpoint, in model field order (`from_db` needs it).
_ENDPOINT_FIELDS = tuple(
    field.attname
    for field in Endpoint._meta.concrete_fields
    if field.attname
    in {
        "id", "public_id", "ingest_token", "destination_url", "paused", "response_status",
        "response_content_type", "response_body", "rate_limit", "health", "monitoring",
    } | inspection.ENDPOINT_FIELDS
)
# The row's version comes first, then the fields (events/endpoint_cache.py).
_ENDPOINT_SQL = (
    f"SELECT xmin::text, {', '.join(_ENDPOINT_FIELDS)} FROM {Endpoint._meta.db_table} WHERE ingest_token = ANY($1::text[])"
)
# The INSERT of a whole batch is one statement with two parameters: the
# rows as one JSON document (one `orjson.dumps`, headers and signature
# nested as they are, moments in RFC 3339 with their offset) and the bodies
# as one binary bytea[] zipped beside them, so bodies cross as raw bytes.
# One round trip and one result however many rows; per-row pipelined
# INSERTs cost ~40 us of client CPU a row and a BEGIN/COMMIT pair two more
# round trips, and a list parameter per column cost ~15 us a column per
# batch (psycopg). Outside any explicit transaction the INSERT is its own,
# so still all-or-nothing. Rows come back by public_id: nothing
# promises RETURNING keeps the input's order. A row is inserted only while
# its endpoint's row has the version ingest planned it with (the endpoint
# may come from this process's cache); the others are left out and planned
# again.
_EVENT_COLUMNS = (
    ("endpoint_id", "bigint"),
    ("public_id", "text"),
    ("method", "text"),
    ("path", "text"),
    ("query", "text"),
    ("headers", "jsonb"),
    ("size", "integer"),
    ("source_ip", "inet"),
    ("content_type", "text"),
    ("received_at", "timestamptz"),
    ("status", "text"),
    ("next_attempt_at", "timestamptz"),
    ("enqueued_at", "timestamptz"),
    ("event_type", "text"),
    ("sha256", "text"),
    ("signature", "jsonb"),
    ("duplicate_of", "text"),
    ("handshake", "text"),
)
_EVENT_NAMES = tuple(name for name, _ in _EVENT_COLUMNS)
assert set(inspection.EVENT_FIELDS) <= set(_EVENT_NAMES)
_COLUMN_LIST = ", ".join(_EVENT_NAMES)
_INSERT_SQL = (
    f"WITH stored AS (INSERT INTO {Event._meta.db_table} ({_COLUMN_LIST}, body, attempt_count, retry_index) "
    f"SELECT {_COLUMN_LIST}, body, 0, 0 FROM ROWS FROM ("
    f"json_to_recordset($1::json) AS ({', '.join(f'{name} {kind}' for name, kind in _EVENT_COLUMNS)}, endpoint_version xid), "
    f"unnest($2::bytea[])) AS batch({_COLUMN_LIST}, endpoint_version, body) "
    f"WHERE EXISTS (SELECT 1 FROM {Endpoint._meta.db_table} endpoint "
    "WHERE endpoint.id = batch.endpoint_id AND endpoint.xmin = batch.endpoint_version) "
    "RETURNING public_id, id), "
    # The search indexer's queue (events/search.py), in the same statement.
    f"queued AS (INSERT INTO {SearchBacklog._meta.db_table} (event_id) SELECT id FROM stored) "
    "SELECT public_id, id FROM stored"
)


def _insert_params(events: list[Event], versions: dict[int, str]) -> tuple[str, list[bytes]]:
    """`versions`: the row version each endpoint instance was read at, by
    `id()` (one batch may hold two reads of one endpoint: its old token
    from the cache and its new one from the database)."""
    rows = []
    for event in events:
        row = dict(zip(_EVENT_NAMES, (
            event.endpoint_id, event.public_id, event.method, event.path, event.query, event.headers,
            event.size, event.source_ip, event.content_type, event.received_at, event.status,
            event.next_attempt_at, event.enqueued_at, event.event_type, event.sha256, event.signature, event.duplicate_of, event.handshake,
        ), strict=True))
        row["endpoint_version"] = versions[id(event.endpoint)]
        rows.append(row)
    return orjson.dumps(rows).decode(), [event.body for event in events]


class EndpointsKeptChanging(RuntimeError):
    """Planning again did not catch up with changes to the endpoints."""


class PostgresStore:
    """One asyncpg connection owned by one event loop (one per server
    process); the batcher runs one flush at a time. No explicit
    transaction: each statement is its own, so no BEGIN and COMMIT round
    trips (the batch's rows are one INSERT)."""

    # Rounds of planning again after endpoints changed under a batch; past
    # it the batch fails (a 503 for its senders) rather than loop.
    REPLANS = 3

    def __init__(self) -> None:
        self._db = LoopConnection()
        self._endpoints = EndpointCache()

    async def close(self) -> None:
        await self._db.close()

    async def __call__(self, arrivals: list[Arrival]) -> list[Stored]:
        """Stores what it can, then plans again the arrivals whose endpoint
        changed since it was read, from a fresh read."""
        results: list[Stored | None] = [None] * len(arrivals)
        todo = list(range(len(arrivals)))
        for _ in range(self.REPLANS):
            stored = await self._store_round([arrivals[i] for i in todo])
            stale = []
            for i, result in zip(todo, stored, strict=True):
                if result.event is not None and result.event.id is None:
                    stale.append(i)
                else:
                    results[i] = result
            if not stale:
                return results
            todo = stale
        raise EndpointsKeptChanging(f"the endpoints of {len(todo)} arrivals kept changing under one batch")

    async def _store_round(self, arrivals: list[Arrival]) -> list[Stored]:
        """One try of `_store_once` with store_sync's fallbacks. Nothing of
        a failed statement is stored, so trying again stores nothing twice."""
        try:
            try:
                return await self._store_once(arrivals)
            except asyncpg.IntegrityConstraintViolationError:
                return await self._store_once(arrivals)  # see store_sync
        except asyncpg.DataError as exc:
            if len(arrivals) == 1:
                return [Stored(event=None, rejected=str(exc).splitlines()[0])]
            return [(await self._store_round([arrival]))[0] for arrival in arrivals]  # see store_sync

    async def _lookup(self, conn, tokens: set[str]) -> tuple[dict[str, Endpoint], dict[int, str]]:
        """Endpoints by token, cached or read, and the row version of each
        (by the instance's `id()`, as `_insert_params` takes them)."""
        endpoints, versions = {}, {}
        missing = []
        for token in tokens:
            entry = self._endpoints.get(token)
            if entry is None:
                missing.append(token)
            else:
                endpoints[token], versions[id(entry[0])] = entry
        if missing:
            for version, *row in await conn.fetch(_ENDPOINT_SQL, missing):
                endpoint = Endpoint.from_db("default", _ENDPOINT_FIELDS, row)
                self._endpoints.put(endpoint.ingest_token, endpoint, version)
                endpoints[endpoint.ingest_token], versions[id(endpoint)] = endpoint, version
        return endpoints, versions

    async def _store_once(self, arrivals: list[Arrival]) -> list[Stored]:
        """One try: events whose endpoint changed since it was read come
        back unsaved (pk None), their cache entries and dedup claims dropped."""
        claimed: list[str] = []
        try:
            async with self._db.connection() as conn:
                endpoints, versions = await self._lookup(conn, {a.token for a in arrivals})
                wanted = wanted_allowances(arrivals, endpoints)
                allowed = await asyncio.to_thread(ratelimit.allowances, wanted) if wanted else {}
                results = plan(arrivals, endpoints, allowed)
                if dedup.wanted(results):
                    claimed = await asyncio.to_thread(dedup.claim, results)
                events = [stored.event for stored in results if stored.event is not None]
                if events:
                    ids = {row[0]: row[1] for row in await conn.fetch(_INSERT_SQL, *_insert_params(events, versions))}
                    for event in events:
                        event.id = ids.get(event.public_id)
        except BaseException:
            if claimed:
                await asyncio.to_thread(dedup.release, claimed)
            raise
        unsaved = [stored for stored in results if stored.event is not None and stored.event.id is None]
        for stored in unsaved:
            self._endpoints.drop(stored.endpoint.ingest_token)
        left_over = dedup.claims_of(unsaved, claimed)
        if left_over:
            await asyncio.to_thread(dedup.release, left_over)
        return results


def make_store():
    """The batch store for this process's database (an async callable)."""
    from asgiref.sync import sync_to_async

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return PostgresStore()
    return sync_to_async(store_sync, thread_sensitive=False)
