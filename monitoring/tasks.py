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


NOTIFY_RETRY_DELAYS = (10, 60, 300, 1800)


@shared_task(ignore_result=True)
def notify_alert(alert_id: int) -> int:
    """Fan an alert's change out to the owner's channels, one task each."""
    from monitoring.notify import plan

    alert = Alert.objects.select_related("endpoint").filter(pk=alert_id).first()
    if alert is None:
        return 0
    notifications = plan(alert)
    for notification in notifications:
        send_notification.delay(notification.pk)
    return len(notifications)


@shared_task(bind=True, ignore_result=True, max_retries=len(NOTIFY_RETRY_DELAYS))
def send_notification(self, notification_id: int) -> None:
    from monitoring.channels import Notification
    from monitoring.notify import deliver

    notification = (
        Notification.objects.select_related("channel", "alert__endpoint")
        .filter(pk=notification_id, state=Notification.State.PENDING)
        .first()
    )
    if notification is None:
        return  # sent already (a redelivered task), or its channel was deleted
    final = self.request.retries >= len(NOTIFY_RETRY_DELAYS)
    if not deliver(notification, final).ok and not final:
        raise self.retry(countdown=NOTIFY_RETRY_DELAYS[self.request.retries])


@shared_task(ignore_result=True)
def prune() -> dict[str, int]:
    """Delete rows past their retention, in batches (monitoring.retention)."""
    from monitoring.retention import prune as prune_rows

    return prune_rows()
