"""One attempt of an event to a URL that is not its endpoint's destination.

A debugging send ("what does my laptop make of this event?"): the attempt is
listed with the event's other attempts, numbered in the same sequence, but
the event's status and retry schedule are left alone: they describe delivery
to the endpoint's destination, which this attempt says nothing about. It is
sent once and never retried.
"""

import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from deliveries import destination, forwarding, outbound
from deliveries.models import DeliveryAttempt
from events.models import Event

# How often to look again while the event's own attempt is in flight.
IN_FLIGHT_POLL_SECONDS = 0.2


def send_once(event_id: int, url: str) -> DeliveryAttempt | None:
    """Send the event to `url` (plus its sub-path and query) and record it.

    None when the event was deleted meanwhile.
    """
    event = Event.objects.select_related("endpoint").filter(pk=event_id).first()
    if event is None:
        return None
    target = destination.destination_for(url, event.path, event.query)
    headers = forwarding.request_headers(event, int(time.time()))
    started_at = timezone.now()
    if not connection.in_atomic_block:
        # Hand the pooled connection back while we wait on the network.
        connection.close()
    response = outbound.send(event.method, target, headers, event.body_bytes, event.endpoint.timeout_seconds)
    return _record(event, target, headers, started_at, response)


def _record(
    event: Event, url: str, headers: dict[str, str], started_at, response: outbound.Response
) -> DeliveryAttempt | None:
    # A worker sending the event's own attempt numbers it attempt_count + 1
    # as read when it claimed the event; taking a number meanwhile would make
    # its result collide with ours. So wait (bounded by its lease) until no
    # claim is live, and number ours under the row lock.
    deadline = time.monotonic() + settings.DELIVERY_LEASE_SECONDS
    while True:
        with transaction.atomic():
            row = Event.objects.select_for_update().filter(pk=event.pk).values("attempt_count", "claimed_until").first()
            if row is None:
                return None
            claimed = row["claimed_until"] is not None and row["claimed_until"] > timezone.now()
            if not claimed or time.monotonic() > deadline:
                number = row["attempt_count"] + 1
                attempt = DeliveryAttempt.answered(
                    event, number, url, headers, started_at, response, one_off=True
                )
                attempt.save(force_insert=True)
                Event.objects.filter(pk=event.pk).update(attempt_count=number)
                return attempt
        time.sleep(IN_FLIGHT_POLL_SECONDS)
