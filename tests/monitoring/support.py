"""Rollup histories for detector tests: a steady stream, then a scenario."""

import random
from datetime import UTC, datetime, timedelta

from endpoints.models import Endpoint
from monitoring.counters import latency_bucket
from monitoring.models import COUNTERS, Alert, AlertState, Rollup, empty_latency

T0 = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def latency_of(durations: list[float]) -> list[int]:
    histogram = empty_latency()
    for duration in durations:
        histogram[latency_bucket(duration)] += 1
    return histogram


def steady(endpoint: Endpoint, before: int = 130, after: int = 140, seed: int = 7) -> None:
    """About 10 events a minute with jitter, all delivered in 30-70 ms and
    processed fine, from `before` minutes ahead of T0 to `after` minutes past
    it, on top of 7 days of hourly history just like it."""
    rng = random.Random(seed)
    start = T0.replace(second=0)
    rows = []
    for offset in range(-before, after):
        events = rng.randint(8, 12)
        rows.append(
            Rollup(
                endpoint=endpoint, minutes=1, start=start + offset * MINUTE, events=events, attempts_ok=events,
                reports_ok=events, latency=latency_of([rng.uniform(30, 70) for _ in range(events)]),
            )
        )
    hour = start.replace(minute=0)
    for back in range(1, 7 * 24 + 1):
        rows.append(
            Rollup(
                endpoint=endpoint, minutes=60, start=hour - back * timedelta(hours=1), events=600, attempts_ok=600,
                reports_ok=600, latency=latency_of([rng.uniform(30, 70) for _ in range(600)]),
            )
        )
    Rollup.objects.bulk_create(rows)


def put(endpoint: Endpoint, minute: datetime, **counts) -> Rollup:
    """Replace the counts of one minute (others of that minute keep their values)."""
    row, _ = Rollup.objects.get_or_create(endpoint=endpoint, minutes=1, start=minute.replace(second=0, microsecond=0))
    for name, value in counts.items():
        assert name in COUNTERS or name == "latency", name
        setattr(row, name, value)
    row.save()
    return row


def open_types(endpoint: Endpoint) -> set[str]:
    return set(Alert.objects.filter(endpoint=endpoint, state=AlertState.OPEN).values_list("type", flat=True))


def resolved_types(endpoint: Endpoint) -> set[str]:
    return set(Alert.objects.filter(endpoint=endpoint, state=AlertState.RESOLVED).values_list("type", flat=True))
