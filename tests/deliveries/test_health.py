from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from deliveries.health import compute_health, refresh_idle
from deliveries.models import DeliveryAttempt, Outcome
from endpoints.models import Endpoint, Health
from events.models import Event

pytestmark = pytest.mark.django_db


def add_attempts(endpoint: Endpoint, outcomes: list[str]) -> None:
    now = timezone.now()
    event = Event.objects.create(endpoint=endpoint, method="POST", received_at=now)
    for number, outcome in enumerate(outcomes, start=1):
        DeliveryAttempt.objects.create(
            event=event, endpoint=endpoint, attempt=number, url="https://example.test/", outcome=outcome,
            started_at=now + timedelta(milliseconds=number),
        )


@pytest.fixture
def endpoint(alice):
    return Endpoint.objects.create(owner=alice, name="E", destination_url="https://example.test/")


def test_an_endpoint_without_recent_events_is_inactive(endpoint):
    assert compute_health(endpoint) == Health.INACTIVE


def test_an_endpoint_with_events_but_no_attempts_is_healthy(endpoint):
    Event.objects.create(endpoint=endpoint, method="POST", received_at=timezone.now())
    assert compute_health(endpoint) == Health.HEALTHY


@pytest.mark.parametrize(
    ("successes", "failures", "expected"),
    [(20, 0, Health.HEALTHY), (19, 1, Health.HEALTHY), (15, 5, Health.DEGRADED), (10, 10, Health.DEGRADED),
     (9, 11, Health.FAILING), (0, 5, Health.FAILING)],
)
def test_health_follows_the_success_rate_of_recent_attempts(endpoint, successes, failures, expected):
    add_attempts(endpoint, [Outcome.SUCCESS] * successes + [Outcome.HTTP_ERROR] * failures)
    assert compute_health(endpoint) == expected


def test_only_the_newest_twenty_attempts_count(endpoint):
    add_attempts(endpoint, [Outcome.HTTP_ERROR] * 30 + [Outcome.SUCCESS] * 20)
    assert compute_health(endpoint) == Health.HEALTHY


def test_an_endpoint_turns_inactive_a_day_after_its_last_event(endpoint):
    add_attempts(endpoint, [Outcome.SUCCESS])
    Endpoint.objects.filter(pk=endpoint.pk).update(health=Health.HEALTHY)
    assert refresh_idle() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert refresh_idle() == 1
    endpoint.refresh_from_db()
    assert endpoint.health == Health.INACTIVE


def test_one_off_attempts_to_other_urls_do_not_count(endpoint):
    add_attempts(endpoint, [Outcome.SUCCESS] * 2)
    add_attempts(endpoint, [Outcome.CONNECTION_ERROR] * 5)
    DeliveryAttempt.objects.filter(outcome=Outcome.CONNECTION_ERROR).update(one_off=True)
    assert compute_health(endpoint) == Health.HEALTHY
