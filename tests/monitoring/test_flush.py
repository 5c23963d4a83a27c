"""Beat's flush: Redis counters into Rollup rows, idempotent."""

from datetime import timedelta

import pytest

from monitoring import counters, rollups
from monitoring.models import Rollup
from tests.monitoring.support import MINUTE, T0

pytestmark = pytest.mark.django_db


def count(endpoint, at, **amounts) -> None:
    tally = counters.Tally(now=at)
    for name, amount in amounts.items():
        tally.add(endpoint.pk, name, amount)
    tally.latency(endpoint.pk, 42)
    counters.send(tally)


def test_it_writes_each_minute_and_hour_with_its_totals(endpoint) -> None:
    count(endpoint, T0 - MINUTE, events=3, attempts_ok=2)
    count(endpoint, T0, events=1, attempts_failed=1)
    count(endpoint, T0, events=1)
    assert rollups.flush(T0) == 4  # T0 is 12:00:30: two minutes in two hours
    minutes = {r.start: (r.events, r.attempts_ok, r.attempts_failed) for r in Rollup.objects.filter(minutes=1)}
    assert minutes == {T0.replace(second=0) - MINUTE: (3, 2, 0), T0.replace(second=0): (2, 0, 1)}
    hours = {r.start.hour: (r.events, sum(r.latency)) for r in Rollup.objects.filter(minutes=60)}
    assert hours == {11: (3, 1), 12: (2, 2)}


def test_flushing_twice_changes_nothing(endpoint) -> None:
    count(endpoint, T0, events=4)
    rollups.flush(T0)
    rollups.flush(T0 + timedelta(seconds=20))
    assert list(Rollup.objects.filter(minutes=1).values_list("events", flat=True)) == [4]


def test_a_later_flush_completes_a_minute_flushed_early(endpoint) -> None:
    count(endpoint, T0, events=4)
    rollups.flush(T0)
    count(endpoint, T0 + timedelta(seconds=10), events=6)
    rollups.flush(T0 + MINUTE)
    assert list(Rollup.objects.filter(minutes=1).values_list("events", flat=True)) == [10]


def test_a_deleted_endpoints_counts_are_dropped(endpoint) -> None:
    count(endpoint, T0, events=4)
    endpoint.delete()
    assert rollups.flush(T0) == 0
    assert not Rollup.objects.exists()


def test_readers_see_the_current_minute_before_any_flush(endpoint) -> None:
    count(endpoint, T0, events=7)
    found = rollups.series([endpoint.pk], T0 - timedelta(minutes=5), T0)
    assert found[endpoint.pk][T0.replace(second=0)]["events"] == 7
