"""Beat's minute and the at-once alert opener; thin, taking ids."""

import logging

from celery import shared_task
from django.utils import timezone

from endpoints.models import Endpoint
from monitoring import rollups, runner
from monitoring.models import Alert

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def run_minute() -> dict[str, int]:
    """Flush the counters into rollups, then run every detector."""
    now = timezone.now()
    flushed = rollups.flush(now)
    changes = runner.run(now)
    log.info("monitoring: %d rollups flushed, %s", flushed, changes)
    return {"flushed": flushed, **changes}


@shared_task(ignore_result=True)
def raise_alerts(findings: list[list]) -> int:
    """Open (or count) alerts a single request or attempt proved: [[endpoint pk, type, detail], ...]."""
    endpoints = Endpoint.objects.in_bulk({pk for pk, _, _ in findings})
    raised = 0
    for pk, type_, detail in findings:
        endpoint = endpoints.get(pk)
        if endpoint is not None:  # deleted since
            Alert.raise_for(endpoint, type_, detail)
            raised += 1
    return raised
