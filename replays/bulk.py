"""Working through a bulk replay (the body of its Celery task).

Batches of REPLAY_BATCH_SIZE events, oldest first, REPLAY_CONCURRENCY of
them sent at once. Each event gets a new round of attempts (as a single
replay would), and the job makes the round's first attempt itself so it can
count the outcome; a failed one goes on retrying on the endpoint's schedule
like any other. Counts are written as results come in, and the cursor after
each batch, so a cancel is seen within a moment and a job taken over after
its worker died starts again at its last unfinished batch.
"""

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from deliveries import engine
from events.models import Event
from replays.models import BulkReplay, ReplayState

log = logging.getLogger(__name__)

# Contract: replay.progress at most 4 times a second (then one final message).
PROGRESS_INTERVAL_SECONDS = 0.25


def lease() -> timedelta:
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def claim(job_id: int) -> BulkReplay | None:
    """Take the running job unless another task holds it (safe to run twice)."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    taken = BulkReplay.objects.filter(free, pk=job_id, state=ReplayState.RUNNING).update(claimed_until=now + lease())
    if not taken:
        return None
    return BulkReplay.objects.select_related("endpoint").get(pk=job_id)


def stalled_job_ids(grace: timedelta = timedelta(seconds=60)) -> list[int]:
    """Running jobs no task holds: their worker died (the lease ran out), or
    their start message was lost (never claimed, older than `grace`)."""
    now = timezone.now()
    never_started = Q(claimed_until__isnull=True, created_at__lt=now - grace)
    return list(
        BulkReplay.objects.filter(never_started | Q(claimed_until__lt=now), state=ReplayState.RUNNING)
        .values_list("pk", flat=True)
    )


def replay_one(event_pk: int) -> bool:
    """A new round for one event and its first attempt; whether it was delivered."""
    try:
        event = Event.objects.select_related("endpoint").filter(pk=event_pk).first()
        if event is None:
            return False
        # Replayed and claimed in one statement, so no engine takes it from us.
        attempt = engine.replay_now(event)
        return attempt is not None and attempt.succeeded
    except Exception:  # one event's trouble (a database blip) must not end the job
        log.exception("bulk replay of event %s failed", event_pk)
        return False
    finally:
        connection.close()  # this runs on a pool thread


class Progress:
    """Counts not yet written, and when subscribers last heard of the job."""

    def __init__(self, job: BulkReplay) -> None:
        self.job = job
        self.done = 0
        self.failed = 0
        self.announced_at = 0.0

    def add(self, delivered: bool) -> None:
        self.done += 1
        self.failed += 0 if delivered else 1

    def flush(self) -> bool:
        """Write the counts and renew the claim; whether the job still runs."""
        BulkReplay.objects.filter(pk=self.job.pk).update(
            done=F("done") + self.done, failed=F("failed") + self.failed, claimed_until=timezone.now() + lease()
        )
        self.done = self.failed = 0
        self.job.refresh_from_db(fields=["state", "total", "done", "failed"])
        if time.monotonic() - self.announced_at >= PROGRESS_INTERVAL_SECONDS:
            self.announced_at = time.monotonic()
            self.job.announce()
        return not self.job.finished


def run(job_id: int) -> None:
    job = claim(job_id)
    if job is None:
        return
    progress = Progress(job)
    with ThreadPoolExecutor(settings.REPLAY_CONCURRENCY, thread_name_prefix="replay") as pool:
        running = True
        while running:
            batch = list(job.remaining().values_list("pk", "received_at")[: settings.REPLAY_BATCH_SIZE])
            if not batch:
                BulkReplay.objects.filter(pk=job.pk, state=ReplayState.RUNNING).update(
                    # Events that stopped matching (deleted, status moved on)
                    # were skipped: the total is what was replayed.
                    state=ReplayState.DONE, finished_at=timezone.now(), total=F("done")
                )
                break
            running = run_batch(pool, batch, progress)
            last_pk, last_at = batch[-1]
            BulkReplay.objects.filter(pk=job.pk).update(cursor_received_at=last_at, cursor_event_pk=last_pk)
            job.cursor_received_at, job.cursor_event_pk = last_at, last_pk
    # Released: nothing of this job is in flight any more.
    BulkReplay.objects.filter(pk=job.pk).update(claimed_until=None)
    job.refresh_from_db()
    connection.close()
    job.announce()


def run_batch(pool: ThreadPoolExecutor, batch: list[tuple[int, object]], progress: Progress) -> bool:
    """Send one batch; False once the job was cancelled (the rest is not sent)."""
    futures: list[Future] = [pool.submit(replay_one, pk) for pk, _ in batch]
    running = True
    for future in as_completed(futures):
        if future.cancelled():
            continue
        progress.add(future.result())
        if running and time.monotonic() - progress.announced_at >= PROGRESS_INTERVAL_SECONDS:
            running = progress.flush()
            if not running:
                for other in futures:
                    other.cancel()  # only those not started yet
    return progress.flush() and running
