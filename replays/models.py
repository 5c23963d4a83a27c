"""Bulk replays: every event of an endpoint that matches a filter, sent again.

A BulkReplay is a job row. Its Celery task works through the matching events
oldest first, one batch at a time, each event getting a new round of
attempts whose first attempt the job makes itself so it can count the
outcome. The row keeps the counts and a keyset cursor, so a job whose worker
died resumes after its last finished batch; progress is streamed to the
endpoint's subscribers as `replay.progress`.
"""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from config.ids import new_id
from endpoints.models import Endpoint, endpoint_group
from events.models import Event
from realtime import envelope
from realtime.publish import publish_on_commit, publish_sync


def new_replay_id() -> str:
    return new_id("rpl")


class ReplayState(models.TextChoices):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class BulkReplay(models.Model):
    public_id = models.CharField(max_length=40, unique=True, default=new_replay_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="replays")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="replays")
    # The filter, as asked for.
    status = models.CharField(max_length=16, blank=True, default="")
    received_after = models.DateTimeField(null=True, blank=True)
    received_before = models.DateTimeField(null=True, blank=True)
    event_type = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=16, choices=ReplayState.choices, default=ReplayState.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Events that arrive after the job was created are not part of it.
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Keyset cursor: the last event of the last finished batch.
    cursor_received_at = models.DateTimeField(null=True, blank=True)
    cursor_event_pk = models.BigIntegerField(default=0)
    # While a task is working on the job; another task leaves it alone.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.public_id

    @property
    def finished(self) -> bool:
        return self.state != ReplayState.RUNNING

    @property
    def delivered(self) -> int:
        return self.done - self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)

    def matching(self) -> QuerySet[Event]:
        """The job's events, oldest first."""
        events = Event.objects.filter(endpoint_id=self.endpoint_id, received_at__lte=self.created_at)
        if self.status:
            events = events.filter(status=self.status)
        if self.received_after:
            events = events.filter(received_at__gte=self.received_after)
        if self.received_before:
            events = events.filter(received_at__lt=self.received_before)
        if self.event_type:
            events = events.filter(event_type=self.event_type)
        return events.order_by("received_at", "pk")

    def remaining(self) -> QuerySet[Event]:
        events = self.matching()
        if self.cursor_received_at is None:
            return events
        at = self.cursor_received_at
        return events.filter(Q(received_at__gt=at) | Q(received_at=at, pk__gt=self.cursor_event_pk))

    def progress(self) -> dict:
        return {
            "id": self.public_id,
            "endpoint": self.endpoint.public_id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
        }

    def announce(self) -> None:
        publish_sync(endpoint_group(self.endpoint.public_id), envelope.replay_progress(self.progress()))

    def announce_on_commit(self) -> None:
        publish_on_commit(endpoint_group(self.endpoint.public_id), envelope.replay_progress(self.progress()))

    def cancel(self) -> bool:
        """Stop the job; False when it had already finished."""
        cancelled = BulkReplay.objects.filter(pk=self.pk, state=ReplayState.RUNNING).update(
            state=ReplayState.CANCELLED, finished_at=timezone.now()
        )
        self.refresh_from_db()
        if cancelled:
            # The job announces its final counts too; this one reaches
            # subscribers even when no worker is running it.
            self.announce_on_commit()
        return bool(cancelled)


def created(owner, endpoint: Endpoint, **filters: str | datetime | None) -> BulkReplay:
    """A new job, counted; a job that matches nothing is done at once."""
    job = BulkReplay(owner=owner, endpoint=endpoint, **{k: v for k, v in filters.items() if v not in (None, "")})
    job.total = job.matching().count()
    if not job.total:
        job.state = ReplayState.DONE
        job.finished_at = job.created_at
    job.save()
    return job
