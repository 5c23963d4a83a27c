"""What an event's forwarding needs besides the engine: its request, and
the state changes around attempts (set aside, replay, release held).

Plain functions because they write across apps (event status, endpoint).
"""

from django.db.models import Q
from django.utils import timezone

from deliveries import destination
from deliveries.signing import signature_header
from endpoints.models import Endpoint
from events.models import Event, EventStatus


def set_aside(events: list[Event]) -> list[Event]:
    """Release claimed events that cannot be sent now; the others, to send.

    A paused endpoint holds its events until it resumes; an endpoint whose
    destination was removed keeps them as received (an inbox).
    """
    sendable = []
    for event in events:
        endpoint = event.endpoint
        if endpoint.paused or not endpoint.destination_url:
            status = EventStatus.HELD if endpoint.paused else EventStatus.RECEIVED
            Event.objects.filter(pk=event.pk, claimed_until=event.claimed_until).update(
                status=status, next_attempt_at=None, enqueued_at=None, claimed_until=None
            )
        else:
            sendable.append(event)
    return sendable


def destination_for(event: Event) -> str:
    return destination.destination_for(event.endpoint.destination_url, event.path, event.query)


def request_headers(event: Event, timestamp: int) -> dict[str, str]:
    headers = destination.forwarded_headers(event.headers)
    headers["webhook-id"] = event.public_id
    headers["webhook-timestamp"] = str(timestamp)
    signature = signature_header(event.endpoint, event.public_id, timestamp, event.body_bytes)
    if signature:
        headers["webhook-signature"] = signature
    return headers


def replay(event: Event) -> bool:
    """Make the event due now: a new round of attempts on the same event.

    Returns whether a wake-up should be sent (False while the endpoint is
    paused: the event is held until it resumes).
    """
    now = timezone.now()
    paused = event.endpoint.paused
    idle = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    replayed = Event.objects.filter(idle, pk=event.pk).update(
        status=EventStatus.HELD if paused else EventStatus.RECEIVED,
        next_attempt_at=None if paused else now,
        enqueued_at=None if paused else now,
        retry_index=0,
    )
    event.refresh_from_db()
    # An attempt in flight is left alone: it is being forwarded right now.
    return bool(replayed) and not paused


def release_stray_held() -> int:
    """Held events of endpoints that are no longer paused.

    Ingest may read `paused` just before a resume commits and store its event
    as held just after the resume released the others; the sweeper mends
    that here instead of ingest locking the endpoint row on the hot path.
    """
    held = Event.objects.filter(status=EventStatus.HELD, endpoint__paused=False)
    inbox = Q(endpoint__destination_url__isnull=True) | Q(endpoint__destination_url="")
    released = held.filter(inbox).update(status=EventStatus.RECEIVED)
    return released + held.exclude(inbox).update(
        status=EventStatus.RECEIVED, next_attempt_at=timezone.now(), enqueued_at=None
    )


def release_held(endpoint: Endpoint) -> int:
    """After a resume: every held event becomes due now; the sweeper sends them."""
    if not endpoint.destination_url:
        return Event.objects.filter(endpoint=endpoint, status=EventStatus.HELD).update(
            status=EventStatus.RECEIVED
        )
    return Event.objects.filter(endpoint=endpoint, status=EventStatus.HELD).update(
        status=EventStatus.RECEIVED, next_attempt_at=timezone.now(), enqueued_at=None
    )
