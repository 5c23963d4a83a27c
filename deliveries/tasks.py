import gc

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.db import transaction

from deliveries import engine, forwarding, health
from monitoring.autopause import resumed


@worker_ready.connect
def start_engine(**_kwargs) -> None:
    # Django, Celery and their imports live as long as the process: out of
    # the collector's reach, a full collection no longer walks them (it
    # stopped every engine thread for 50-370 ms under load before).
    gc.freeze()
    engine.running()


@worker_shutdown.connect
def stop_engine(**_kwargs) -> None:
    engine.stop()


@shared_task(ignore_result=True)
def forward_due() -> None:
    """Events were just made due: wake this worker's engine to claim them."""
    engine.running().wake()


@shared_task(ignore_result=True)
def sweep_due() -> int:
    """Mend held events of resumed endpoints and wake an engine.

    Engines look for due retries on their own every DELIVERY_POLL_SECONDS;
    this is the safety net when every wake-up was lost (a Redis flush).
    """
    released = forwarding.release_stray_held()
    engine.running().wake()
    return released


@shared_task(ignore_result=True)
def refresh_idle_health() -> int:
    return health.refresh_idle()


def release_held(endpoint) -> int:
    """After a resume: held events become due, and a worker is woken once
    the caller commits."""
    released = forwarding.release_held(endpoint)
    resumed(endpoint)
    transaction.on_commit(forward_due.delay)
    return released


def replay(event) -> bool:
    """Forward the event again now (False while its endpoint is paused: held)."""
    with transaction.atomic():
        due = forwarding.replay(event)
        if due:
            wake([event.pk])
    return due


def wake(event_ids: list[int]) -> None:
    """Wake an engine once the caller commits, if it made events due."""
    if event_ids:
        transaction.on_commit(forward_due.delay)
