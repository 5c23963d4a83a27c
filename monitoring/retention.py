"""Retention: old events (with their attempts), reports and rollups are
deleted in small batches, each its own short transaction, so ingest never
waits behind a long delete; beat runs it (`prune`) with a log line per run.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event
from monitoring.models import Report, Rollup

log = logging.getLogger(__name__)

# A run stops after this many batches of a kind; the next run goes on.
MAX_BATCHES = 200


def _drain(rows: QuerySet, batch: int) -> int:
    """Delete the matching rows oldest first, `batch` primary keys at a time."""
    deleted = 0
    for _ in range(MAX_BATCHES):
        pks = list(rows.values_list("pk", flat=True)[:batch])
        if not pks:
            break
        # delete() also removes each event's attempts and clears references
        # to it (reports, replays), in this batch's own transaction.
        rows.model.objects.filter(pk__in=pks).delete()
        deleted += len(pks)
    return deleted


def prune_events(now, batch: int) -> int:
    deleted = 0
    default = now - timedelta(days=settings.RETENTION_DAYS)
    # Per endpoint, so each query is a range scan of (endpoint, received_at).
    for pk, days in Endpoint.objects.values_list("pk", "retention_days").iterator():
        cutoff = now - timedelta(days=days) if days else default
        rows = Event.objects.filter(endpoint_id=pk, received_at__lt=cutoff).order_by("received_at")
        deleted += _drain(rows, batch)
    return deleted


def prune(now=None) -> dict[str, int]:
    now = now or timezone.now()
    batch = settings.RETENTION_BATCH
    started = time.monotonic()
    counts = {
        "events": prune_events(now, batch),
        "reports": _drain(
            Report.objects.filter(received_at__lt=now - timedelta(days=settings.REPORT_RETENTION_DAYS)).order_by(
                "received_at"
            ),
            batch,
        ),
        "minute_rollups": _drain(
            Rollup.objects.filter(
                minutes=1, start__lt=now - timedelta(days=settings.MINUTE_ROLLUP_RETENTION_DAYS)
            ).order_by("start"),
            batch,
        ),
        "hour_rollups": _drain(
            Rollup.objects.filter(
                minutes=60, start__lt=now - timedelta(days=settings.HOUR_ROLLUP_RETENTION_DAYS)
            ).order_by("start"),
            batch,
        ),
    }
    log.info(
        "retention: deleted %(events)d events, %(reports)d reports, %(minute_rollups)d minute and "
        "%(hour_rollups)d hour rollups in %(seconds).2f s",
        {**counts, "seconds": time.monotonic() - started},
    )
    return counts
