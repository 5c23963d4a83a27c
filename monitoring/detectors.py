"""Detectors: small plain functions over an endpoint's rollups.

Each takes a Context (the endpoint, the clock, its per-minute counts of the
last 70 minutes, its monitoring options and the thresholds from
settings.MONITOR) and says whether its condition holds now: Condition(True,
detail) opens or keeps the alert, Condition(False) resolves it, None leaves
it as it is. The README's "Monitoring" table documents every rule.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from endpoints.models import Endpoint, Health
from monitoring.counters import floor_minute
from monitoring.models import AlertType
from monitoring.rollups import Counts, between, series

HISTORY_MINUTES = 70
BASELINE_DAYS = 7


@dataclass
class Condition:
    active: bool
    detail: str = ""


QUIET = Condition(False)


@dataclass
class Context:
    endpoint: Endpoint
    now: datetime
    minutes: dict[datetime, Counts]
    options: dict
    thresholds: dict
    last_event_at: datetime | None = None
    baseline_cache: dict = field(default_factory=dict)

    @property
    def minute(self) -> datetime:
        return floor_minute(self.now)

    def at(self, back: int) -> Counts:
        """The minute `back` minutes before the current (partial) one."""
        return self.minutes.get(self.minute - timedelta(minutes=back), Counts())

    def span(self, newest_back: int, count: int) -> Counts:
        """`count` minutes ending `newest_back` minutes before the current one."""
        until = self.minute - timedelta(minutes=newest_back - 1)
        return between(self.minutes, until - timedelta(minutes=count), until)

    @property
    def window(self) -> Counts:
        """The last WINDOW_MINUTES, the current minute included."""
        return self.span(0, self.thresholds["WINDOW_MINUTES"])

    @cached_property
    def baseline_p95(self) -> int | None:
        """p95 attempt latency over the 7 days before the last two hours."""
        hour = self.minute.replace(minute=0)
        since = hour - timedelta(days=BASELINE_DAYS)
        until = hour - timedelta(hours=1)
        hours = series([self.endpoint.pk], since, self.now, minutes=60).get(self.endpoint.pk, {})
        return between(hours, since, until).quantile(0.95)


def endpoint_down(ctx: Context) -> Condition | None:
    if ctx.endpoint.health == Health.FAILING:
        return Condition(True, "most recent delivery attempts failed")
    if ctx.endpoint.health == Health.HEALTHY:
        return QUIET
    return None  # degraded or inactive: neither down nor recovered


def timeouts(ctx: Context) -> Condition:
    w, t = ctx.window, ctx.thresholds
    if w["timeouts"] >= t["TIMEOUTS_MIN"] and w["timeouts"] >= t["TIMEOUTS_RATIO"] * w.attempts:
        return Condition(True, f"{w['timeouts']} of {w.attempts} attempts timed out in {t['WINDOW_MINUTES']} minutes")
    return QUIET


def silent(ctx: Context) -> Condition:
    every = ctx.options.get("expected_every_seconds")
    if not every:
        return QUIET
    allowed = timedelta(seconds=every + (ctx.options.get("grace_seconds") or 0))
    last = ctx.last_event_at or ctx.endpoint.created_at
    if ctx.now - last > allowed:
        return Condition(True, f"no event since {last:%Y-%m-%d %H:%M:%S} UTC (expected every {every} s)")
    return QUIET


def traffic_spike(ctx: Context) -> Condition:
    t = ctx.thresholds
    average = ctx.span(2, 10)["events"] / 10
    for back in (0, 1):  # the current minute so far, and the last complete one
        count = ctx.at(back)["events"]
        if count >= t["SPIKE_MIN"] and count > t["SPIKE_FACTOR"] * average:
            return Condition(True, f"{count} events in a minute against an average of {average:.1f}")
    return QUIET


def traffic_drop(ctx: Context) -> Condition:
    t = ctx.thresholds
    recent = ctx.span(1, 5)["events"] / 5
    before = ctx.span(6, 60)["events"] / 60
    if before >= t["DROP_MIN_PER_MIN"] and recent < t["DROP_RATIO"] * before:
        return Condition(True, f"{recent:.1f} events/min over 5 minutes against {before:.1f} over the hour before")
    return QUIET


def retry_storm(ctx: Context) -> Condition:
    retries = ctx.window["retries"]
    if retries:
        return Condition(True, f"{retries} redeliveries in {ctx.thresholds['WINDOW_MINUTES']} minutes")
    return QUIET


def duplicates(ctx: Context) -> Condition:
    count = ctx.window["duplicates"]
    if count:
        return Condition(True, f"{count} duplicate payloads in {ctx.thresholds['WINDOW_MINUTES']} minutes")
    return QUIET


def integrity(ctx: Context) -> Condition:
    count = ctx.window["integrity"]
    if count:
        return Condition(True, f"{count} malformed payloads in {ctx.thresholds['WINDOW_MINUTES']} minutes")
    return QUIET


def latency_degradation(ctx: Context) -> Condition:
    t = ctx.thresholds
    hour = ctx.span(0, 60)
    p95 = hour.quantile(0.95)
    if p95 is None or hour.attempts < t["LATENCY_MIN_ATTEMPTS"] or p95 < t["LATENCY_FLOOR_MS"]:
        return QUIET
    baseline = ctx.baseline_p95
    if baseline and p95 > t["LATENCY_FACTOR"] * baseline:
        return Condition(True, f"p95 {p95} ms over the last hour against {baseline} ms over 7 days")
    return QUIET


def signature_failures(ctx: Context) -> Condition:
    count = ctx.window["signature_failures"]
    if count >= ctx.thresholds["SIGNATURE_FAILURES_MIN"]:
        return Condition(True, f"{count} requests failed signature verification")
    return QUIET


def processing_failures(ctx: Context) -> Condition:
    w, t = ctx.window, ctx.thresholds
    failed = w["reports_failed"]
    if failed >= t["PROCESSING_FAILURES_MIN"] and failed >= t["PROCESSING_FAILURES_RATIO"] * w.reports:
        return Condition(True, f"{failed} of {w.reports} processing reports failed")
    return QUIET


def slow_processing(ctx: Context) -> Condition:
    w, t = ctx.window, ctx.thresholds
    slow = w["reports_slow"]
    if slow >= t["SLOW_PROCESSING_MIN"] and slow >= t["SLOW_PROCESSING_RATIO"] * w.reports:
        limit = ctx.options.get("latency_threshold_ms")
        return Condition(True, f"{slow} of {w.reports} reports took longer than {limit} ms")
    return QUIET


def auto_paused(ctx: Context) -> Condition:
    if ctx.endpoint.paused and ctx.endpoint.paused_reason:
        return Condition(True, ctx.endpoint.paused_reason)
    return QUIET


DETECTORS: dict[str, Callable[[Context], Condition | None]] = {
    AlertType.ENDPOINT_DOWN: endpoint_down,
    AlertType.TIMEOUTS: timeouts,
    AlertType.SILENT: silent,
    AlertType.TRAFFIC_SPIKE: traffic_spike,
    AlertType.TRAFFIC_DROP: traffic_drop,
    AlertType.RETRY_STORM: retry_storm,
    AlertType.DUPLICATES: duplicates,
    AlertType.INTEGRITY: integrity,
    AlertType.LATENCY_DEGRADATION: latency_degradation,
    AlertType.SIGNATURE_FAILURES: signature_failures,
    AlertType.PROCESSING_FAILURES: processing_failures,
    AlertType.SLOW_PROCESSING: slow_processing,
    AlertType.AUTO_PAUSED: auto_paused,
}

# Opened by the request or attempt that shows them; the minute's run only
# opens them if that was missed and resolves them, never counts them again.
AT_ONCE = {AlertType.INTEGRITY, AlertType.DUPLICATES, AlertType.SIGNATURE_FAILURES, AlertType.ENDPOINT_DOWN,
           AlertType.AUTO_PAUSED}
