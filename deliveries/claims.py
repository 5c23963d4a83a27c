"""Claiming due events in batches, fairly across endpoints.

A claim moves each event's next_attempt_at a lease ahead and stamps
claimed_until with the same instant: of two workers only one matches a row,
and if this one dies the event is due again once the lease runs out. The
lease is never shorter than the endpoint's timeout plus LEASE_MARGIN_SECONDS
for each round of the endpoint's in-flight cap the process has claimed
(`lease_seconds`), so an attempt (its deadline is hard), including its wait
for a free slot, always ends before anyone else may claim the event.

On PostgreSQL one statement does it all: a skip scan over the
(endpoint, next_attempt_at) index visits each endpoint with pending events,
takes at most its remaining per-endpoint room of due rows (FOR UPDATE SKIP
LOCKED, so concurrent workers never wait on each other), and updates them.
A 100,000-event backlog of one endpoint is therefore never read past its
first rows, and the endpoints behind it get their turn in the same claim.
SQLite (`make run` without DATABASE_URL) has a single writer and no SKIP
LOCKED; there a plain due-order scan is capped per endpoint in Python.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from deliveries import prepared
from endpoints.models import Endpoint
from events.models import Event, EventStatus

PENDING = [EventStatus.RECEIVED, EventStatus.RETRYING]

# Time for recording the attempt after its deadline, and for clock skew.
LEASE_MARGIN_SECONDS = 5

# An engine claims up to this many rounds of a fast endpoint's in-flight cap
# at once, so its sends go on while it records and claims the next batch. A
# slow or new endpoint gets one round: queued events of a hanging endpoint
# would otherwise fill the process's capacity and starve the others.
ROUNDS_AHEAD = 5


def lease_seconds(timeout_seconds: int, rounds: int = 1) -> int:
    """An event claimed with `rounds - 1` rounds of its endpoint's cap before
    it may wait that many timeouts for its turn; the lease covers it all."""
    return max(settings.DELIVERY_LEASE_SECONDS, timeout_seconds * rounds + LEASE_MARGIN_SECONDS)


@dataclass
class Room:
    """How many more events of each endpoint this process may claim.

    `busy` counts what it holds already; `cap` is how many of an endpoint's
    requests it keeps open at once (the rest wait their turn), which sets
    the lease. Without a cap, all it claims is sent at once.
    """

    per_endpoint: int
    busy: dict[int, int]
    cap: int = 0
    fast: frozenset[int] = frozenset()  # endpoints claimed ROUNDS_AHEAD rounds deep

    def limit(self, endpoint_pk: int) -> int:
        return self.per_endpoint * ROUNDS_AHEAD if endpoint_pk in self.fast else self.per_endpoint

    def of(self, endpoint_pk: int) -> int:
        return max(0, self.limit(endpoint_pk) - self.busy.get(endpoint_pk, 0))

    def rounds(self, endpoint_pk: int, claimed: int) -> int:
        cap = self.cap or self.per_endpoint
        return max(1, -(-(self.busy.get(endpoint_pk, 0) + claimed) // cap))


_COLUMNS = ", ".join(
    [f"e.{f.column}" for f in Event._meta.concrete_fields] + [f"ep.{f.column}" for f in Endpoint._meta.concrete_fields]
)
_EVENT_WIDTH = len(Event._meta.concrete_fields)

_CLAIM_SQL = f"""
WITH RECURSIVE pending(endpoint_id) AS (
    (SELECT endpoint_id FROM events_event
      WHERE next_attempt_at IS NOT NULL AND endpoint_id > %(after)s
      ORDER BY endpoint_id LIMIT 1)
  UNION ALL
    SELECT (SELECT e.endpoint_id FROM events_event e
             WHERE e.next_attempt_at IS NOT NULL AND e.endpoint_id > p.endpoint_id
             ORDER BY e.endpoint_id LIMIT 1)
      FROM pending p WHERE p.endpoint_id IS NOT NULL
),
picked AS (
    SELECT due.id, p.endpoint_id FROM pending p
    CROSS JOIN LATERAL (
        -- Only the partial index: a status condition here once led the
        -- planner to AND it with the status index, reading every pending
        -- event of the table for each endpoint (33 ms a claim under load).
        -- A due time implies a pending status (constraint event_due_is_pending).
        SELECT e.id FROM events_event e
         WHERE e.endpoint_id = p.endpoint_id AND e.next_attempt_at <= %(now)s
         ORDER BY e.endpoint_id, e.next_attempt_at
         LIMIT greatest(0, (CASE WHEN p.endpoint_id = ANY(%(fast)s::bigint[])
                                 THEN %(per_endpoint)s * %(rounds_ahead)s ELSE %(per_endpoint)s END) - coalesce(
             (SELECT b.n FROM unnest(%(busy_ids)s::bigint[], %(busy_counts)s::int[]) AS b(id, n)
               WHERE b.id = p.endpoint_id), 0))
         FOR UPDATE SKIP LOCKED
    ) due
    WHERE p.endpoint_id IS NOT NULL
    LIMIT %(limit)s
),
-- Rounds of the cap this process will hold of each endpoint: they set the lease.
counted AS (
    SELECT picked.id, ceil((count(*) OVER (PARTITION BY picked.endpoint_id) + coalesce(
               (SELECT b.n FROM unnest(%(busy_ids)s::bigint[], %(busy_counts)s::int[]) AS b(id, n)
                 WHERE b.id = picked.endpoint_id), 0))::numeric / %(cap)s) AS rounds
      FROM picked
)
UPDATE events_event e
   SET next_attempt_at = %(now)s + make_interval(secs => greatest(%(lease)s, ep.timeout_seconds * c.rounds + %(margin)s)),
       claimed_until = %(now)s + make_interval(secs => greatest(%(lease)s, ep.timeout_seconds * c.rounds + %(margin)s))
  FROM counted c, endpoints_endpoint ep
 WHERE e.id = c.id AND ep.id = e.endpoint_id
RETURNING {_COLUMNS}
"""


def claim_due(now: datetime, limit: int, room: Room, after: int = 0) -> list[Event]:
    """Claim up to `limit` due events, endpoints after `after` first.

    Each returned event has its endpoint attached, read fresh by the same
    statement (pause, destination, secrets).
    """
    if limit <= 0:
        return []
    if connection.vendor == "postgresql":
        return _claim_postgres(now, limit, room, after)
    events = _claim_portable(now, limit, room)
    endpoints = Endpoint.objects.in_bulk({event.endpoint_id for event in events})
    for event in events:
        event.endpoint = endpoints[event.endpoint_id]
    return events


def claim_one(now: datetime, event_id: int) -> list[Event]:
    """Claim one event if it is due (a list: empty when it is not, or taken)."""
    event = Event.objects.select_related("endpoint").filter(pk=event_id).first()
    if event is None:
        return []
    until = now + timedelta(seconds=lease_seconds(event.endpoint.timeout_seconds))
    taken = Event.objects.filter(pk=event_id, next_attempt_at__lte=now, status__in=PENDING).update(
        next_attempt_at=until, claimed_until=until
    )
    if not taken:
        return []
    event.refresh_from_db()
    return [event]


def claim_replay(now: datetime, event: Event) -> list[Event]:
    """Start a new round on the event and claim its first attempt in one
    statement, so no engine can take the attempt in between (bulk replay
    makes it itself). Empty while an attempt of it is in flight."""
    until = now + timedelta(seconds=lease_seconds(event.endpoint.timeout_seconds))
    idle = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    taken = Event.objects.filter(idle, pk=event.pk).update(
        status=EventStatus.RECEIVED, retry_index=0, next_attempt_at=until, claimed_until=until, enqueued_at=None
    )
    if not taken:
        return []
    event.refresh_from_db()
    return [event]


def _claim_postgres(now: datetime, limit: int, room: Room, after: int) -> list[Event]:
    busy = [(pk, n) for pk, n in room.busy.items() if n > 0]
    params = {
        "after": after,
        "now": now,
        "per_endpoint": room.per_endpoint,
        "fast": sorted(room.fast),
        "rounds_ahead": ROUNDS_AHEAD,
        "busy_ids": [pk for pk, _ in busy],
        "busy_counts": [n for _, n in busy],
        "limit": limit,
        "lease": settings.DELIVERY_LEASE_SECONDS,
        "margin": LEASE_MARGIN_SECONDS,
        "cap": room.cap or room.per_endpoint,
    }
    # One statement, so no transaction around it: BEGIN and COMMIT were two
    # more round trips per claim.
    rows = prepared.fetch_all(_CLAIM_SQL, params)
    events = prepared.instances(Event, [row[:_EVENT_WIDTH] for row in rows])
    endpoints: dict[int, Endpoint] = {}
    for event, row in zip(events, rows):
        if event.endpoint_id not in endpoints:
            [endpoints[event.endpoint_id]] = prepared.instances(Endpoint, [row[_EVENT_WIDTH:]])
        event.endpoint = endpoints[event.endpoint_id]
    return events


def _claim_portable(now: datetime, limit: int, room: Room) -> list[Event]:
    with transaction.atomic():
        due = Event.objects.filter(next_attempt_at__lte=now, status__in=PENDING).order_by("next_attempt_at")
        taken: dict[int, list[int]] = {}
        count = 0
        for pk, endpoint_pk in due.values_list("pk", "endpoint_id")[: limit * 4]:
            if count >= limit:
                break
            if len(taken.get(endpoint_pk, [])) < room.of(endpoint_pk):
                taken.setdefault(endpoint_pk, []).append(pk)
                count += 1
        timeouts = dict(Endpoint.objects.filter(pk__in=taken).values_list("pk", "timeout_seconds"))
        for endpoint_pk, pks in taken.items():
            rounds = room.rounds(endpoint_pk, len(pks))
            until = now + timedelta(seconds=lease_seconds(timeouts[endpoint_pk], rounds))
            Event.objects.filter(pk__in=pks).update(next_attempt_at=until, claimed_until=until)
        return list(Event.objects.filter(pk__in=[pk for pks in taken.values() for pk in pks]))
