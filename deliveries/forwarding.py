"""Forwarding one event: claim it, send one attempt, record what happened.

Plain functions because one attempt writes across apps (event status,
delivery row, endpoint health) and announces itself after the commit.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from deliveries import destination, outbound
from deliveries.health import refresh_health
from deliveries.models import DeliveryAttempt, Outcome
from deliveries.schedule import next_retry_at
from deliveries.signing import signature_header
from endpoints.models import Endpoint, endpoint_group
from events.models import Event, EventStatus
from monitoring.hooks import observe_attempts
from realtime.publish import publish_on_commit

log = logging.getLogger(__name__)

PENDING = [EventStatus.RECEIVED, EventStatus.RETRYING]


def lease() -> timedelta:
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def claim(event_id: int) -> Event | None:
    """Take the event's due attempt, or None when it is not due or taken.

    One conditional UPDATE: of two workers woken for the same event only one
    matches the row. The claim moves next_attempt_at a lease ahead, so if
    this worker dies the sweeper finds the event due again after the lease.
    """
    now = timezone.now()
    until = now + lease()
    taken = Event.objects.filter(pk=event_id, next_attempt_at__lte=now, status__in=PENDING).update(
        next_attempt_at=until, claimed_until=until
    )
    if not taken:
        return None
    return Event.objects.select_related("endpoint").get(pk=event_id)


def due_event_ids(limit: int = 500) -> list[int]:
    """Mark due events as enqueued and return their ids (the sweeper's work).

    SKIP LOCKED lets two sweepers run at once without picking the same rows.
    An event whose wake-up was enqueued less than a lease ago is left alone:
    its message is still on the broker, or its worker is still sending.
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - lease()))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Event.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


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


def forward(event_id: int) -> DeliveryAttempt | None:
    """Make the event's due attempt, if it is still due. Safe to run twice."""
    event = claim(event_id)
    if event is None:
        return None
    endpoint = event.endpoint
    if endpoint.paused or not endpoint.destination_url:
        status = EventStatus.HELD if endpoint.paused else EventStatus.RECEIVED
        Event.objects.filter(pk=event.pk).update(
            status=status, next_attempt_at=None, enqueued_at=None, claimed_until=None
        )
        return None
    started_at = timezone.now()
    timestamp = int(time.time())
    url = destination_for(event)
    headers = request_headers(event, timestamp)
    if not connection.in_atomic_block:
        # Hand the pooled connection back while we wait on the network.
        connection.close()
    response = outbound.send(event.method, url, headers, event.body_bytes, endpoint.timeout_seconds)
    return record(event, url, headers, started_at, response)


def record(
    event: Event, url: str, headers: dict[str, str], started_at, response: outbound.Response
) -> DeliveryAttempt | None:
    endpoint: Endpoint = event.endpoint
    attempt_no = event.attempt_count + 1
    succeeded = response.outcome == Outcome.SUCCESS
    retry_at = None
    if not succeeded and response.outcome != Outcome.BLOCKED:
        retry_at = next_retry_at(timezone.now(), endpoint.retry_schedule, event.retry_index, response.retry_after)
    if succeeded:
        status = EventStatus.DELIVERED
    elif retry_at is not None:
        status = EventStatus.RETRYING
    else:
        status = EventStatus.FAILED
    try:
        with transaction.atomic():
            attempt = DeliveryAttempt.objects.create(
                event=event,
                endpoint=endpoint,
                attempt=attempt_no,
                url=url,
                request_headers=[[k, v] for k, v in headers.items()],
                status_code=response.status_code,
                outcome=response.outcome,
                duration_ms=response.duration_ms,
                response_headers=response.headers,
                response_body=response.body,
                error=response.error,
                started_at=started_at,
                next_retry_at=retry_at,
            )
            still_ours = Event.objects.filter(pk=event.pk, claimed_until=event.claimed_until).update(
                status=status,
                next_attempt_at=retry_at,
                enqueued_at=None,
                claimed_until=None,
                attempt_count=attempt_no,
                retry_index=0 if succeeded else event.retry_index + 1,
            )
            if not still_ours:
                # Our lease ran out while we were sending and the event moved
                # on without us; writing now would overwrite a newer result.
                raise IntegrityError("claim lost")
            publish_on_commit(endpoint_group(endpoint.public_id), attempt.message())
            refresh_health(endpoint)
    except IntegrityError:
        # Another worker recorded this attempt number first, or took the
        # event over after our lease ran out; theirs stands.
        log.warning("attempt %s of %s was not recorded: the claim was lost", attempt_no, event.public_id)
        return None
    observe_attempts([attempt])
    return attempt


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
