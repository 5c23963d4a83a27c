"""What a client missed after a given event, rebuilt from the database.

The stored rows say everything the live messages said: an event row gives
its `event.received`, an attempt row its `event.retrying`, `event.delivered`
or `event.failed` (derived the way deliveries.forwarding decides it). Each
message has a key, so the consumer can skip a live copy of a message the
replay already sent.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from channels.db import database_sync_to_async
from django.db.models import Q

from deliveries.models import DeliveryAttempt
from endpoints.models import Endpoint
from events.models import Event
from realtime import envelope

Message = dict[str, Any]


@dataclass(frozen=True)
class Cursor:
    received_at: datetime
    pk: int


# Before any event: a replay from here sends an endpoint's whole history.
FROM_THE_START = Cursor(datetime(1970, 1, 1, tzinfo=timezone.utc), 0)


@dataclass
class Replay:
    messages: list[Message] = field(default_factory=list)
    # Older missed messages that did not fit the client's queue; the client
    # is told the count and refetches them over the API.
    skipped: int = 0


def message_key(message: Message) -> tuple | None:
    """Identity of a status message, equal for its live and replayed copies."""
    data = message.get("data") or {}
    if message["type"] == "event.received":
        return ("event", data.get("id"))
    if message["channel"] == "deliveries":
        return ("attempt", data.get("event_id"), data.get("attempt"))
    return None



@database_sync_to_async
def event_cursor(user_id: int, event_id: str) -> Cursor | None:
    """Where the client stands: one of the user's events, or None."""
    row = (
        Event.objects.filter(public_id=event_id, endpoint__owner_id=user_id)
        .values_list("received_at", "pk")
        .first()
    )
    return Cursor(*row) if row else None


@database_sync_to_async
def missed(user_id: int, endpoint_ids: list[str], cursor: Cursor, limit: int) -> Replay:
    """Status messages after `cursor` for these endpoints, oldest first.

    At most `limit` (the newest ones): more would only be dropped by the
    client's bounded queue anyway.
    """
    pks = list(Endpoint.objects.filter(owner_id=user_id, public_id__in=endpoint_ids).values_list("pk", flat=True))
    if not pks:
        return Replay()
    events_after = Event.objects.filter(endpoint_id__in=pks).filter(
        Q(received_at__gt=cursor.received_at) | Q(received_at=cursor.received_at, pk__gt=cursor.pk)
    )
    # Attempts of the cursor's own event count too: the client saw it arrive,
    # not necessarily how its delivery went.
    attempts_after = DeliveryAttempt.objects.filter(
        endpoint_id__in=pks, started_at__gte=cursor.received_at, one_off=False
    )
    events = list(
        events_after.select_related("endpoint")
        .only(
            "public_id", "method", "size", "status", "received_at", "endpoint", "endpoint__public_id",
            "event_type", "signature", "duplicate_of",
        )
        .order_by("-received_at", "-pk")[: limit + 1]
    )
    attempts = list(
        attempts_after.select_related("event", "endpoint")
        .only(
            "public_id", "attempt", "status_code", "duration_ms", "outcome", "error",
            "started_at", "next_retry_at", "event", "event__public_id", "endpoint", "endpoint__public_id",
        )
        .order_by("-started_at", "-pk")[: limit + 1]
    )
    timeline = [((e.received_at, 0, e.pk), envelope.event_received(e.summary())) for e in events]
    timeline += [((a.started_at, 1, a.pk), a.message()) for a in attempts]
    timeline.sort(key=lambda entry: entry[0])
    kept = [message for _, message in timeline[-limit:]]
    total = len(events) + len(attempts)
    if len(events) > limit:
        total += events_after.count() - len(events)
    if len(attempts) > limit:
        total += attempts_after.count() - len(attempts)
    return Replay(messages=kept, skipped=total - len(kept))

