from celery import shared_task
from django.db import transaction

from replays import attempt, bulk
from replays.models import BulkReplay, created


@shared_task(acks_late=True, ignore_result=True)
def send_once(event_id: int, url: str) -> None:
    attempt.send_once(event_id, url)


@shared_task(acks_late=True, ignore_result=True)
def run_bulk_replay(job_id: int) -> None:
    bulk.run(job_id)


@shared_task(ignore_result=True)
def resume_stalled_replays() -> int:
    """Beat, every minute: the database, not the broker, says what is running."""
    job_ids = bulk.stalled_job_ids()
    for job_id in job_ids:
        run_bulk_replay.delay(job_id)
    return len(job_ids)


def start_bulk_replay(owner, endpoint, filters: dict) -> BulkReplay:
    """Count the matching events and start the job once the caller commits."""
    with transaction.atomic():
        job = created(owner, endpoint, **filters)
        if not job.finished:
            transaction.on_commit(lambda: run_bulk_replay.delay(job.pk))
    return job
