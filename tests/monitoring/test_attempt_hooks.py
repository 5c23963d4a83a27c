"""Attempts recorded by deliveries feed the counters and endpoint_down at once."""

import pytest
from django.db.models import Sum
from django.utils import timezone

from deliveries import engine
from endpoints.models import Endpoint, Health
from monitoring import rollups
from monitoring.models import Alert, AlertState, AlertType, Rollup
from monitoring.stats import for_endpoints
from tests.support.receiver import Reply
from tests.support.rows import make_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_worker")]


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def destination(alice, receiver) -> Endpoint:
    return Endpoint.objects.create(
        owner=alice, name="Dest", destination_url=receiver.url, retry_schedule=[60], timeout_seconds=1
    )


def forward_one(endpoint: Endpoint) -> None:
    event = make_event(endpoint, next_attempt_at=timezone.now())
    assert engine.forward(event.pk) is not None


def test_attempts_are_counted_with_their_latency(destination, receiver) -> None:
    receiver.script(Reply(200), Reply(500), Reply(200, delay=1.5))
    for _ in range(3):
        forward_one(destination)
    rollups.flush(timezone.now())
    totals = Rollup.objects.filter(endpoint=destination, minutes=1).aggregate(
        ok=Sum("attempts_ok"), failed=Sum("attempts_failed"), timeouts=Sum("timeouts")
    )
    assert totals == {"ok": 1, "failed": 2, "timeouts": 1}
    stats = for_endpoints([destination.pk])[destination.pk]
    assert stats["success_rate_1h"] == pytest.approx(1 / 3, abs=0.001)
    assert stats["p50_ms"] is not None and stats["p95_ms"] >= stats["p50_ms"]


def test_endpoint_down_opens_when_health_turns_failing_and_resolves_when_healthy(destination, receiver) -> None:
    receiver.script(Reply(503))
    forward_one(destination)
    destination.refresh_from_db()
    assert destination.health == Health.FAILING
    alert = Alert.objects.get(endpoint=destination)
    assert (alert.type, alert.state) == (AlertType.ENDPOINT_DOWN, AlertState.OPEN)

    receiver.script(Reply(200))
    for _ in range(40):  # health looks at the newest 20 attempts
        forward_one(destination)
    destination.refresh_from_db()
    assert destination.health == Health.HEALTHY
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
