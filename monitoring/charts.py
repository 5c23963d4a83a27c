"""Server-rendered SVG charts of an endpoint's rollups: events/min, delivery
success rate and p95 attempt latency over 1 h, 24 h or 7 d."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitoring.counters import floor_hour, floor_minute
from monitoring.rollups import Counts, between, series

WIDTH, HEIGHT, PAD = 600, 160, 28


@dataclass(frozen=True)
class Range:
    label: str
    span: timedelta
    step: timedelta
    rollup_minutes: int  # 1: minute rows, 60: hour rows


RANGES = {
    "1h": Range("1 hour", timedelta(hours=1), timedelta(minutes=1), 1),
    "24h": Range("24 hours", timedelta(hours=24), timedelta(minutes=10), 1),
    "7d": Range("7 days", timedelta(days=7), timedelta(hours=2), 60),
}


@dataclass(frozen=True)
class Metric:
    title: str
    unit: str
    value: Callable[[Counts, float], float | None]  # (bucket counts, minutes in it)


METRICS = {
    "events": Metric("Events per minute", "/min", lambda c, minutes: c["events"] / minutes),
    "success": Metric(
        "Delivery success rate", "%", lambda c, _: 100 * c["attempts_ok"] / c.attempts if c.attempts else None
    ),
    "p95": Metric("p95 attempt latency", "ms", lambda c, _: c.quantile(0.95)),
}


def points(endpoint_pk: int, metric: Metric, window: Range, now: datetime) -> list[tuple[datetime, float | None]]:
    """One value per step, oldest first (None: nothing to measure then)."""
    floor = floor_hour if window.rollup_minutes == 60 else floor_minute
    end = floor(now) + timedelta(minutes=window.rollup_minutes)
    start = end - window.span
    rows = series([endpoint_pk], start, now, minutes=window.rollup_minutes).get(endpoint_pk, {})
    minutes = window.step.total_seconds() / 60
    values = []
    moment = start
    while moment < end:
        values.append((moment, metric.value(between(rows, moment, moment + window.step), minutes)))
        moment += window.step
    return values


def geometry(values: list[tuple[datetime, float | None]]) -> dict:
    """Polyline segments (gaps where there is no value) scaled to the box."""
    known = [value for _, value in values if value is not None]
    top = max(known, default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    segments, current = [], []
    for index, (_, value) in enumerate(values):
        if value is None:
            if current:
                segments.append(" ".join(current))
                current = []
            continue
        x = PAD + index * step
        y = HEIGHT - PAD - (value / top) * (HEIGHT - 2 * PAD)
        current.append(f"{x:.1f},{y:.1f}")
    if current:
        segments.append(" ".join(current))
    latest = next((value for _, value in reversed(values) if value is not None), None)
    return {"segments": segments, "top": top, "latest": latest, "total": sum(known), "count": len(known)}
