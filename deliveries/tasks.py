from celery import shared_task
from django.db import transaction

from deliveries import forwarding, health
from monitoring.autopause import resumed


@shared_task(acks_late=True, ignore_result=True)
def forward_event(event_id: int) -> None:
    forwarding.forward(event_id)


@shared_task(ignore_result=True)
def forward_events(event_ids: list[int]) -> None:
    """Fan a batch of fresh events out to one task each, off the ingest path."""
    for event_id in event_ids:
        forward_event.delay(event_id)


@shared_task(ignore_result=True)
def sweep_due() -> int:
    """Wake a worker for every due event; the database says what is due."""
    forwarding.release_stray_held()
    ids = forwarding.due_event_ids()
    transaction.on_commit(lambda: [forward_event.delay(event_id) for event_id in ids])
    return len(ids)


@shared_task(ignore_result=True)
def refresh_idle_health() -> int:
    return health.refresh_idle()


def release_held(endpoint) -> int:
    """After a resume: held events become due, and the sweeper is woken once
    the caller commits (it cannot look before they are due)."""
    released = forwarding.release_held(endpoint)
    resumed(endpoint)
    transaction.on_commit(sweep_due.delay)
    return released


def replay(event) -> bool:
    """Forward the event again now (False while its endpoint is paused: held)."""
    with transaction.atomic():
        due = forwarding.replay(event)
        if due:
            wake([event.pk])
    return due


def wake(event_ids: list[int]) -> None:
    """Enqueue forwarding for events just made due (after the caller commits)."""
    if event_ids:
        transaction.on_commit(lambda: forward_events.delay(list(event_ids)))
