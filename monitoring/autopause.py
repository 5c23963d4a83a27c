"""Auto-pause: a destination answering 410 Gone, or failing without a break
for the endpoint's `auto_pause_after_seconds`, is paused with a reason.

Its new events are then held (ingest and forwarding already do that for a
paused endpoint); resuming releases them and resolves the `auto_paused` alert.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint, Health
from monitoring.intake import monitor_settings
from monitoring.models import Alert, AlertType


def pause(endpoint: Endpoint, reason: str, now: datetime | None = None) -> bool:
    """Pause the endpoint unless it already is; open `auto_paused` when we did."""
    with transaction.atomic():
        paused = Endpoint.objects.filter(pk=endpoint.pk, paused=False).update(
            paused=True, paused_reason=reason[:300], updated_at=now or timezone.now()
        )
        if not paused:
            return False
        endpoint.paused, endpoint.paused_reason = True, reason[:300]
        Alert.raise_for(endpoint, AlertType.AUTO_PAUSED, reason, now)
    return True


def gone(endpoint: Endpoint, url: str) -> bool:
    return pause(endpoint, f"The destination answered 410 Gone ({url[:200]}).")


def failing_since(endpoint: Endpoint) -> datetime | None:
    """When the current unbroken run of failed attempts began, if there is one."""
    attempts = DeliveryAttempt.objects.filter(endpoint=endpoint, one_off=False)
    newest = attempts.order_by("-started_at").values_list("outcome", flat=True).first()
    if newest is None or newest == Outcome.SUCCESS:
        return None
    last_success = (
        attempts.filter(outcome=Outcome.SUCCESS).order_by("-started_at").values_list("started_at", flat=True).first()
    )
    after = attempts.filter(started_at__gt=last_success) if last_success else attempts
    return after.order_by("started_at").values_list("started_at", flat=True).first()


def check(endpoint: Endpoint, now: datetime) -> bool:
    """Pause a failing endpoint whose failures have lasted long enough."""
    limit = monitor_settings(endpoint).get("auto_pause_after_seconds")
    if not limit or endpoint.paused or endpoint.health != Health.FAILING or not endpoint.destination_url:
        return False
    since = failing_since(endpoint)
    if since is None or now - since < timedelta(seconds=limit):
        return False
    return pause(endpoint, f"Every delivery attempt failed since {since:%Y-%m-%d %H:%M} UTC.", now)


def resumed(endpoint: Endpoint) -> None:
    """A person resumed the endpoint: forget why monitoring paused it."""
    if endpoint.paused_reason:
        Endpoint.objects.filter(pk=endpoint.pk).update(paused_reason="")
        endpoint.paused_reason = ""
    Alert.clear(endpoint, AlertType.AUTO_PAUSED)
