"""Rollup rows: flushed from the Redis counters, read back as time series.

Readers overlay the newest minutes (or hours) straight from Redis, so stats
and detectors see the current minute without waiting for the next flush.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.db.models import Q

from endpoints.models import Endpoint
from monitoring import counters
from monitoring.models import COUNTERS, LATENCY_BOUNDS_MS, Rollup, empty_latency

LIVE_MINUTES = 3
LIVE_HOURS = 2


@dataclass
class Counts:
    """The counters of one period (or a sum of periods)."""

    values: dict[str, int] = field(default_factory=dict)
    latency: list[int] = field(default_factory=empty_latency)

    def __getitem__(self, counter: str) -> int:
        return self.values.get(counter, 0)

    @classmethod
    def from_redis(cls, raw: dict[str, int]) -> "Counts":
        counts = cls({name: raw.get(name, 0) for name in COUNTERS})
        for index in range(len(counts.latency)):
            counts.latency[index] = raw.get(f"lat{index}", 0)
        return counts

    @classmethod
    def from_row(cls, row: dict) -> "Counts":
        latency = list(row["latency"] or empty_latency())
        return cls({name: row[name] for name in COUNTERS}, latency + [0] * (len(empty_latency()) - len(latency)))

    @property
    def attempts(self) -> int:
        return self["attempts_ok"] + self["attempts_failed"]

    @property
    def reports(self) -> int:
        return self["reports_ok"] + self["reports_failed"]

    def quantile(self, q: float) -> int | None:
        """Upper bound (ms) of the bucket holding the q-quantile attempt."""
        total = sum(self.latency)
        if not total:
            return None
        rank, seen = q * total, 0
        for index, count in enumerate(self.latency):
            seen += count
            if seen >= rank and count:
                return LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else LATENCY_BOUNDS_MS[-1] * 2
        return LATENCY_BOUNDS_MS[-1] * 2


def total(periods: Iterable[Counts]) -> Counts:
    summed = Counts()
    for counts in periods:
        for name, value in counts.values.items():
            summed.values[name] = summed.values.get(name, 0) + value
        summed.latency = [a + b for a, b in zip(summed.latency, counts.latency, strict=True)]
    return summed


# --- flush --------------------------------------------------------------------


def _upsert(minutes: int, live: dict[datetime, dict[int, dict[str, int]]]) -> int:
    pks = {pk for per_endpoint in live.values() for pk in per_endpoint}
    existing = set(Endpoint.objects.filter(pk__in=pks).values_list("pk", flat=True)) if pks else set()
    rows = []
    for start, per_endpoint in live.items():
        for pk, raw in per_endpoint.items():
            if pk not in existing:
                continue  # the endpoint was deleted since
            counts = Counts.from_redis(raw)
            rows.append(Rollup(endpoint_id=pk, minutes=minutes, start=start, latency=counts.latency, **counts.values))
    if rows:
        Rollup.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["endpoint", "minutes", "start"],
            update_fields=[*COUNTERS, "latency"],
        )
    return len(rows)


def flush(now: datetime) -> int:
    """Copy the recent minute and hour counters into Rollup rows (idempotent)."""
    minutes = counters.read_minutes(counters.recent_minutes(now, LIVE_MINUTES))
    current_hour = counters.floor_hour(now)
    hours = counters.read_hours([current_hour - timedelta(hours=1), current_hour])
    return _upsert(1, minutes) + _upsert(60, hours)


# --- read ---------------------------------------------------------------------

Series = dict[int, dict[datetime, Counts]]


def series(endpoint_pks: list[int], since: datetime, now: datetime, minutes: int = 1) -> Series:
    """{endpoint pk: {period start: Counts}} for periods starting at or after `since`.

    Only periods with activity appear; absent ones are zero.
    """
    found: Series = defaultdict(dict)
    if not endpoint_pks:
        return found
    rows = (
        Rollup.objects.filter(endpoint_id__in=endpoint_pks, minutes=minutes, start__gte=since)
        .values("endpoint_id", "start", "latency", *COUNTERS)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        found[row["endpoint_id"]][row["start"]] = Counts.from_row(row)
    _overlay_live(found, set(endpoint_pks), since, now, minutes)
    return found


def _overlay_live(found: Series, wanted: set[int], since: datetime, now: datetime, minutes: int) -> None:
    if minutes == 1:
        starts = [start for start in counters.recent_minutes(now, LIVE_MINUTES) if start >= since]
        reader = counters.read_minutes
    else:
        hour = counters.floor_hour(now)
        starts = [start for start in (hour - timedelta(hours=1), hour) if start >= since]
        reader = counters.read_hours
    try:
        live = reader(starts)
    except redis.RedisError:
        return  # the flushed rows are still a fine answer
    for start, per_endpoint in live.items():
        for pk, raw in per_endpoint.items():
            if pk in wanted:
                found[pk][start] = Counts.from_redis(raw)


def between(periods: dict[datetime, Counts], since: datetime, until: datetime) -> Counts:
    """The sum of the periods starting in [since, until)."""
    return total(counts for start, counts in periods.items() if since <= start < until)


def active_endpoint_pks(since: datetime) -> set[int]:
    """Endpoints with any rollup since then (the detectors' working set)."""
    return set(
        Rollup.objects.filter(Q(minutes=1) & Q(start__gte=since)).values_list("endpoint_id", flat=True).distinct()
    )
