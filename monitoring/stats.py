"""Per-endpoint stats for the API and pages, from the last hour's rollups."""

from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from endpoints.models import Endpoint
from events.models import Event
from monitoring.rollups import Counts, between, series

RATE_MINUTES = 10


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarize(minutes: dict[datetime, Counts], now: datetime, last_event_at: datetime | None) -> dict:
    current = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    hour = between(minutes, current - timedelta(minutes=60), current)
    recent = between(minutes, current - timedelta(minutes=RATE_MINUTES), current)
    return {
        "events_per_min": round(recent["events"] / RATE_MINUTES, 2),
        "success_rate_1h": _rate(hour["attempts_ok"], hour.attempts),
        "p50_ms": hour.quantile(0.5),
        "p95_ms": hour.quantile(0.95),
        "processing_success_rate_1h": _rate(hour["reports_ok"], hour.reports),
        "last_event_at": last_event_at.isoformat() if last_event_at else None,
    }


def for_endpoints(endpoint_pks: list[int], now: datetime | None = None) -> dict[int, dict]:
    """Stats of many endpoints in three queries (rollups, last events, Redis)."""
    now = now or timezone.now()
    history = series(endpoint_pks, now - timedelta(minutes=61), now)
    newest = Event.objects.filter(endpoint=OuterRef("pk")).order_by("-received_at", "-id").values("received_at")[:1]
    last = dict(
        Endpoint.objects.filter(pk__in=endpoint_pks).annotate(last=Subquery(newest)).values_list("pk", "last")
    )
    return {pk: summarize(history.get(pk, {}), now, last.get(pk)) for pk in endpoint_pks}
