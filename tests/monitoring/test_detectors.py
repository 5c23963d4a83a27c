"""Every detector on a controlled clock: fires on its scenario, stays quiet on
a steady stream, resolves when the condition clears (monitoring.runner)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine

from endpoints.models import Endpoint, Health
from events.models import Event
from monitoring import runner
from monitoring.models import Alert, AlertState, AlertType
from tests.monitoring.support import MINUTE, T0, latency_of, open_types, put, resolved_types, steady

pytestmark = pytest.mark.django_db


def run_at(moment) -> dict:
    with time_machine.travel(moment, tick=False):
        return runner.run(moment)


def set_health(endpoint: Endpoint, health: str) -> None:
    Endpoint.objects.filter(pk=endpoint.pk).update(health=health)


def event_at(endpoint: Endpoint, moment) -> None:
    Event.objects.create(endpoint=endpoint, method="POST", received_at=moment)


def timing_out(endpoint: Endpoint) -> None:
    for back in range(3):
        put(endpoint, T0 - back * MINUTE, attempts_ok=0, attempts_failed=12, timeouts=12)


def slow_hour(endpoint: Endpoint) -> None:
    for back in range(60):
        put(endpoint, T0 - back * MINUTE, attempts_ok=10, latency=latency_of([900] * 10))


@dataclass
class Scenario:
    type: str
    fire: Callable[[Endpoint], None]
    clear: Callable[[Endpoint], None] = lambda endpoint: None
    clear_after: timedelta = timedelta(minutes=12)


SCENARIOS = [
    Scenario(
        AlertType.ENDPOINT_DOWN,
        lambda e: set_health(e, Health.FAILING),
        clear=lambda e: set_health(e, Health.HEALTHY),
        clear_after=MINUTE,
    ),
    Scenario(AlertType.TIMEOUTS, lambda e: timing_out(e)),
    Scenario(
        AlertType.SILENT,
        lambda e: (
            Endpoint.objects.filter(pk=e.pk).update(monitoring={"expected_every_seconds": 300, "grace_seconds": 60}),
            event_at(e, T0 - timedelta(minutes=7)),
        ),
        clear=lambda e: event_at(e, T0 + timedelta(seconds=20)),
        clear_after=MINUTE,
    ),
    Scenario(AlertType.TRAFFIC_SPIKE, lambda e: put(e, T0, events=80), clear_after=timedelta(minutes=3)),
    Scenario(
        AlertType.TRAFFIC_DROP,
        lambda e: [put(e, T0 - back * MINUTE, events=0) for back in range(1, 6)],
        clear_after=timedelta(minutes=7),
    ),
    Scenario(AlertType.RETRY_STORM, lambda e: put(e, T0, retries=3)),
    Scenario(AlertType.DUPLICATES, lambda e: put(e, T0, duplicates=1)),
    Scenario(AlertType.INTEGRITY, lambda e: put(e, T0, integrity=1)),
    Scenario(AlertType.LATENCY_DEGRADATION, slow_hour, clear_after=timedelta(minutes=61)),
    Scenario(AlertType.SIGNATURE_FAILURES, lambda e: put(e, T0, signature_failures=4)),
    Scenario(
        AlertType.PROCESSING_FAILURES,
        lambda e: [put(e, T0 - back * MINUTE, reports_ok=2, reports_failed=15) for back in range(3)],
    ),
    Scenario(
        AlertType.SLOW_PROCESSING,
        lambda e: [put(e, T0 - back * MINUTE, reports_ok=10, reports_slow=10) for back in range(6)],
    ),
    Scenario(
        AlertType.AUTO_PAUSED,
        lambda e: Endpoint.objects.filter(pk=e.pk).update(paused=True, paused_reason="HTTP 410 Gone"),
        clear=lambda e: Endpoint.objects.filter(pk=e.pk).update(paused=False, paused_reason=""),
        clear_after=MINUTE,
    ),
]


def test_every_alert_type_has_a_scenario() -> None:
    assert {s.type for s in SCENARIOS} == set(AlertType.values)


def test_it_stays_quiet_on_a_steady_stream_with_jitter(endpoint) -> None:
    steady(endpoint)
    set_health(endpoint, Health.HEALTHY)
    for minutes in range(0, 130, 7):
        run_at(T0 + minutes * MINUTE)
    assert not Alert.objects.exists()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.type for s in SCENARIOS])
def test_it_fires_on_its_scenario_and_resolves(endpoint, scenario: Scenario) -> None:
    steady(endpoint)
    run_at(T0 - MINUTE)
    assert open_types(endpoint) == set()

    scenario.fire(endpoint)
    run_at(T0)
    assert open_types(endpoint) == {scenario.type}
    alert = Alert.objects.get(endpoint=endpoint)
    assert alert.public_id.startswith("alr_")
    assert alert.opened_at == T0
    assert alert.detail

    scenario.clear(endpoint)
    run_at(T0 + scenario.clear_after)
    assert open_types(endpoint) == set()
    assert resolved_types(endpoint) == {scenario.type}
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED
    assert alert.resolved_at == T0 + scenario.clear_after


def test_one_alert_stays_open_per_type_and_counts_repeats(endpoint) -> None:
    steady(endpoint)
    timing_out(endpoint)
    run_at(T0)
    run_at(T0 + MINUTE)
    alert = Alert.objects.get(endpoint=endpoint)
    assert (alert.type, alert.state, alert.count) == (AlertType.TIMEOUTS, AlertState.OPEN, 2)


def test_a_condition_seen_on_one_request_is_not_counted_again_each_minute(endpoint) -> None:
    steady(endpoint)
    put(endpoint, T0, integrity=1)
    run_at(T0)
    run_at(T0 + MINUTE)
    assert Alert.objects.get(endpoint=endpoint).count == 1


def test_a_condition_back_after_resolving_opens_a_new_alert(endpoint) -> None:
    steady(endpoint)
    put(endpoint, T0, integrity=1)
    run_at(T0)
    run_at(T0 + timedelta(minutes=12))
    put(endpoint, T0 + timedelta(minutes=13), integrity=2)
    run_at(T0 + timedelta(minutes=13))
    states = sorted(Alert.objects.filter(endpoint=endpoint).values_list("state", flat=True))
    assert states == [AlertState.OPEN, AlertState.RESOLVED]


def test_degraded_health_neither_opens_nor_resolves_endpoint_down(endpoint) -> None:
    steady(endpoint)
    set_health(endpoint, Health.FAILING)
    run_at(T0)
    set_health(endpoint, Health.DEGRADED)
    run_at(T0 + MINUTE)
    assert open_types(endpoint) == {AlertType.ENDPOINT_DOWN}


def test_a_spike_needs_at_least_the_minimum_count(endpoint) -> None:
    put(endpoint, T0, events=9)  # far above an average of 0, but under 10
    run_at(T0)
    assert open_types(endpoint) == set()
    put(endpoint, T0, events=10)
    run_at(T0)
    assert open_types(endpoint) == {AlertType.TRAFFIC_SPIKE}


def test_another_endpoints_condition_opens_nothing_here(endpoint, bob) -> None:
    other = Endpoint.objects.create(owner=bob, name="Other")
    steady(endpoint)
    put(other, T0, integrity=3)
    run_at(T0)
    assert open_types(endpoint) == set()
    assert open_types(other) == {AlertType.INTEGRITY}
