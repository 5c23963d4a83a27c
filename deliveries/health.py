"""Endpoint health, derived from recent delivery attempts and arrivals.

The rule (documented in the README):
- inactive: no event received in the last 24 hours;
- otherwise, over the newest 20 attempts of the last 24 hours:
  healthy at >= 95 % success (or when there were no attempts: inbox
  endpoints and endpoints waiting for their first attempt),
  degraded at >= 50 %, failing below that.
"""

import time
from datetime import timedelta

from django.utils import timezone

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint, Health, endpoint_group
from events.models import Event
from monitoring.hooks import health_changed
from realtime import envelope
from realtime.publish import publish_on_commit

WINDOW = timedelta(hours=24)
SAMPLE = 20


def compute_health(endpoint: Endpoint) -> str:
    since = timezone.now() - WINDOW
    if not Event.objects.filter(endpoint=endpoint, received_at__gte=since).exists():
        return Health.INACTIVE
    outcomes = list(
        DeliveryAttempt.objects.filter(endpoint=endpoint, started_at__gte=since, one_off=False)
        .order_by("-started_at")
        .values_list("outcome", flat=True)[:SAMPLE]
    )
    if not outcomes:
        return Health.HEALTHY
    rate = sum(outcome == Outcome.SUCCESS for outcome in outcomes) / len(outcomes)
    if rate >= 0.95:
        return Health.HEALTHY
    if rate >= 0.5:
        return Health.DEGRADED
    return Health.FAILING


def refresh_health(endpoint: Endpoint) -> bool:
    """Store the endpoint's health; announce it when it changed."""
    health = compute_health(endpoint)
    previous = endpoint.health
    if health == previous:
        return False
    Endpoint.objects.filter(pk=endpoint.pk).update(health=health)
    endpoint.health = health
    health_changed(endpoint, health)
    publish_on_commit(
        endpoint_group(endpoint.public_id), envelope.endpoint_status(endpoint.public_id, health, previous)
    )
    return True


def refresh_idle(limit: int = 1000) -> int:
    """Mark endpoints inactive once their last event leaves the window.

    Attempts refresh health as they happen; only the passing of time with no
    traffic needs this periodic look.
    """
    since = timezone.now() - WINDOW
    stale = (
        Endpoint.objects.exclude(health=Health.INACTIVE)
        .exclude(events__received_at__gte=since)
        .distinct()[:limit]
    )
    return sum(refresh_health(endpoint) for endpoint in stale)


class HealthRefresher:
    """Refreshes the health of endpoints that had attempts, debounced.

    The forwarding engine records hundreds of attempts a second; one health
    query per attempt was a large part of its cost. Each endpoint is
    recomputed at most once per `interval` seconds, and always once after
    its last attempt (the engine calls `refresh_due` at least every poll).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._dirty: dict[int, Endpoint] = {}
        self._refreshed_at: dict[int, float] = {}

    def touch(self, endpoints: list[Endpoint]) -> None:
        for endpoint in endpoints:
            self._dirty[endpoint.pk] = endpoint

    def refresh_due(self, force: bool = False) -> int:
        now = time.monotonic()
        due = [pk for pk in self._dirty if force or now - self._refreshed_at.get(pk, float("-inf")) >= self.interval]
        if not due:
            return 0
        # Another worker process may have stored a newer health meanwhile.
        stored = dict(Endpoint.objects.filter(pk__in=due).values_list("pk", "health"))
        for pk in due:
            endpoint = self._dirty.pop(pk)
            self._refreshed_at[pk] = now
            if pk in stored:
                endpoint.health = stored[pk]
                refresh_health(endpoint)
        return len(due)
