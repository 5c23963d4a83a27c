"""Recording a batch of attempts: the one place an attempt becomes history.

Every attempt of the forwarding engine ends here, many at a time: one
statement settles the events that are still ours and adds their attempt
rows (`batch_write`; SQLite takes an UPDATE per event and an INSERT), and
after the commit one Redis pipeline announces them and counts them for
monitoring.
Whatever else must happen per recorded attempt (auto-pause, latency stats)
belongs in `record_attempts`, inside its transaction or after its commit.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from deliveries import batch_write, outbound
from deliveries.models import DeliveryAttempt, Outcome
from deliveries.schedule import next_retry_at
from endpoints.models import endpoint_group
from events.models import Event, EventStatus
from monitoring import counters
from monitoring.hooks import count_attempts, observe_attempts
from realtime import publish

log = logging.getLogger(__name__)


@dataclass
class Sent:
    """One attempt made: the event as claimed (with its endpoint) and the answer."""

    event: Event
    url: str
    headers: dict[str, str]
    started_at: datetime
    response: outbound.Response


@dataclass
class Settled:
    """What an attempt does to its event."""

    status: str
    next_attempt_at: datetime | None
    attempt: int
    retry_index: int


def settle(sent: Sent, now: datetime) -> Settled:
    event, response = sent.event, sent.response
    succeeded = response.outcome == Outcome.SUCCESS
    retry_at = None
    if not succeeded and response.outcome != Outcome.BLOCKED:
        retry_at = next_retry_at(now, event.endpoint.retry_schedule, event.retry_index, response.retry_after)
    if succeeded:
        status = EventStatus.DELIVERED
    elif retry_at is not None:
        status = EventStatus.RETRYING
    else:
        status = EventStatus.FAILED
    return Settled(
        status=status,
        next_attempt_at=retry_at,
        attempt=event.attempt_count + 1,
        retry_index=0 if succeeded else event.retry_index + 1,
    )


def record_attempts(batch: list[Sent]) -> list[DeliveryAttempt]:
    """Record what was sent; returns the attempts that were still ours to record.

    An event whose claim was lost (our lease ran out and another worker took
    it over) is left alone: writing now would overwrite a newer result.
    """
    if not batch:
        return []
    now = timezone.now()
    plans = [(sent, settle(sent, now)) for sent in batch]
    rows = [_attempt_row(sent, plan) for sent, plan in plans]
    if connection.vendor == "postgresql":
        ours = batch_write.settle_and_insert([
            (sent.event.claimed_until, plan.status, plan.next_attempt_at, plan.retry_index, row)
            for (sent, plan), row in zip(plans, rows)
        ])
        attempts = [row for row in rows if row.event_id in ours]
        transaction.on_commit(lambda: _announce(attempts))  # at once outside a transaction
    else:
        with transaction.atomic():
            ours = _settle_portable(plans)
            attempts = [row for row in rows if row.event_id in ours]
            DeliveryAttempt.objects.bulk_create(attempts)
            transaction.on_commit(lambda: _announce(attempts))
    observe_attempts(attempts)
    for sent, plan in plans:
        if sent.event.pk not in ours:
            log.warning("attempt %s of %s was not recorded: the claim was lost", plan.attempt, sent.event.public_id)
    return attempts


def _announce(attempts: list[DeliveryAttempt]) -> None:
    """The batch's realtime messages and monitoring counts in one Redis round trip."""
    try:
        pipe = counters.client().pipeline(transaction=False)
        publish.queue_many(pipe, [(endpoint_group(a.endpoint.public_id), a.message()) for a in attempts])
        count_attempts(attempts, pipe)
        pipe.execute()
    except Exception:  # a Redis outage must never fail delivery: the attempts are recorded
        log.exception("could not announce %d recorded attempts", len(attempts))


def _attempt_row(sent: Sent, plan: Settled) -> DeliveryAttempt:
    return DeliveryAttempt.answered(
        sent.event, plan.attempt, sent.url, sent.headers, sent.started_at, sent.response,
        next_retry_at=plan.next_attempt_at,
    )


def _settle_portable(plans: list[tuple[Sent, Settled]]) -> set[int]:
    """Update the events whose claim is still ours (SQLite); their ids."""
    return {
        sent.event.pk
        for sent, plan in plans
        if Event.objects.filter(pk=sent.event.pk, claimed_until=sent.event.claimed_until).update(
            status=plan.status, next_attempt_at=plan.next_attempt_at, enqueued_at=None, claimed_until=None,
            attempt_count=plan.attempt, retry_index=plan.retry_index,
        )
    }
