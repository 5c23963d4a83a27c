"""`GET /metrics`: token-protected Prometheus text, the same from any process."""

import pytest
import requests
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint
from monitoring.hooks import count_attempts
from monitoring.models import Alert, AlertType
from tests.support.processes import wait_until
from tests.support.rows import make_event

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-me-7f3a"


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[tuple, float]:
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def test_it_is_404_while_no_token_is_set(client, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_it_refuses_a_missing_or_wrong_token(client, token) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_it_counts_what_other_processes_did(client, token, server, no_worker, alice) -> None:
    # no_worker: an engine left running by an earlier test would claim the due
    # event below (an inbox's: set aside at once) before /metrics counts it.
    shop = Endpoint.objects.create(owner=alice, name="Shop")
    for n in range(3):  # stored and counted by the server process
        answer = requests.post(f"{server.url}/in/{shop.ingest_token}", json={"n": n}, timeout=10)
        assert answer.status_code == 200
    event = make_event(shop, next_attempt_at=timezone.now() - timezone.timedelta(seconds=30))
    count_attempts([
        DeliveryAttempt(event=event, endpoint=shop, attempt=1, url="http://127.0.0.1:9/", outcome=Outcome.SUCCESS,
                        status_code=200, duration_ms=40, started_at=timezone.now()),
        DeliveryAttempt(event=event, endpoint=shop, attempt=2, url="http://127.0.0.1:9/", outcome=Outcome.TIMEOUT,
                        duration_ms=10000, started_at=timezone.now()),
    ])
    Alert.raise_for(shop, AlertType.TIMEOUTS, "slow")
    ep = ("endpoint", shop.public_id)

    samples = wait_until(lambda: (s := scrape(client)).get(("hookline_events_received_total", (ep,))) == 3 and s,
                         message="3 events in /metrics")
    assert samples[("hookline_delivery_attempts_total", (ep, ("outcome", "success")))] == 1
    assert samples[("hookline_delivery_attempts_total", (ep, ("outcome", "timeout")))] == 1
    assert samples[("hookline_delivery_attempts_total", (ep, ("outcome", "http_error")))] == 0
    assert samples[("hookline_attempt_duration_seconds_bucket", (ep, ("le", "0.05")))] == 1
    assert samples[("hookline_attempt_duration_seconds_count", (ep,))] == 1  # a timeout has no answer time
    assert samples[("hookline_due_deliveries", ())] == 1
    assert samples[("hookline_oldest_due_delivery_age_seconds", ())] >= 30
    assert samples[("hookline_open_alerts", (("type", "timeouts"),))] == 1
    # Other tests of the run may still hold slots (they lapse after three missed pings).
    assert samples[("hookline_open_websockets", ())] >= 0


def test_open_websockets_are_counted_across_processes(client, token, redis_client) -> None:
    import time

    from realtime.connections import slot_key

    redis_client.zadd(slot_key(424242), {"conn-a": time.time() + 60, "conn-b": time.time() + 60, "gone": 1})
    try:
        before = scrape(client)[("hookline_open_websockets", ())]
        redis_client.zrem(slot_key(424242), "conn-b")
        assert scrape(client)[("hookline_open_websockets", ())] == before - 1
    finally:
        redis_client.delete(slot_key(424242))
