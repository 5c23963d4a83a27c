"""`GET /metrics`: Prometheus text, read from Redis and the database at scrape
time, so it is the same whichever web process answers and counts what every
web and worker process did.

Counters come from the never-expiring totals hash that ingest and the worker
add to (monitoring.counters); gauges are queried now.
"""

import hmac
import time
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from deliveries.models import Outcome
from endpoints.models import Endpoint
from events.models import Event
from monitoring import counters
from monitoring.models import LATENCY_BOUNDS_MS, Alert, AlertState


def _open_websockets() -> int:
    """Live connection slots across processes (realtime.connections' sorted sets)."""
    client = counters.client()
    pattern = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:ws-connections:*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    if not keys:
        return 0
    pipe = client.pipeline(transaction=False)
    now = time.time()
    for key in keys:
        pipe.zcount(key, now, "+inf")
    return sum(pipe.execute())


class HooklineCollector:
    def collect(self):
        totals = counters.read_totals()
        names = dict(Endpoint.objects.filter(pk__in=list(totals)).values_list("pk", "public_id"))
        yield from self._counters(totals, names)
        yield from self._gauges()

    def _counters(self, totals: dict, names: dict):
        events = CounterMetricFamily("hookline_events_received", "Webhooks stored, per endpoint", labels=["endpoint"])
        attempts = CounterMetricFamily(
            "hookline_delivery_attempts", "Delivery attempts by outcome", labels=["endpoint", "outcome"]
        )
        duration = HistogramMetricFamily(
            "hookline_attempt_duration_seconds", "Answered delivery attempts' duration", labels=["endpoint"]
        )
        for pk, values in sorted(totals.items()):
            endpoint = names.get(pk)
            if endpoint is None:
                continue  # deleted
            events.add_metric([endpoint], values.get("events", 0))
            for outcome in Outcome.values:
                attempts.add_metric([endpoint, outcome], values.get(f"outcome_{outcome}", 0))
            seen, buckets = 0, []
            for index, bound in enumerate(LATENCY_BOUNDS_MS):
                seen += values.get(f"lat{index}", 0)
                buckets.append((str(bound / 1000), seen))
            seen += values.get(f"lat{len(LATENCY_BOUNDS_MS)}", 0)
            buckets.append(("+Inf", seen))
            duration.add_metric([endpoint], buckets, values.get("lat_sum_ms", 0) / 1000)
        yield from (events, attempts, duration)

    def _gauges(self):
        now = timezone.now()
        due = Event.objects.filter(next_attempt_at__lte=now).aggregate(count=Count("pk"), oldest=Min("next_attempt_at"))
        yield GaugeMetricFamily("hookline_due_deliveries", "Deliveries due now", value=due["count"])
        age = (now - due["oldest"]).total_seconds() if due["oldest"] else 0
        yield GaugeMetricFamily("hookline_oldest_due_delivery_age_seconds", "How late the oldest due delivery is", value=age)
        yield GaugeMetricFamily("hookline_open_websockets", "Open WebSocket connections", value=_open_websockets())
        alerts = GaugeMetricFamily("hookline_open_alerts", "Open alerts by type", labels=["type"])
        open_by_type: dict[str, int] = defaultdict(int)
        for type_, count in Alert.objects.filter(state=AlertState.OPEN).values_list("type").annotate(n=Count("pk")):
            open_by_type[type_] = count
        for type_ in sorted(open_by_type):
            alerts.add_metric([type_], open_by_type[type_])
        yield alerts


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are off")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HooklineCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
