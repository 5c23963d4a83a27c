"""The forwarding engine's figures (issue 8), one stack per worker count:
burst throughput with 1 and with N worker processes (sizing), open-loop
receive -> destination latency across 10 endpoints, the same beside 5
hanging endpoints (isolation), and retry lateness. Every part counts
duplicates and missing events at the destination and the CPU that the
workers, the web server and Postgres spent per delivery."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench import fwdstack
from bench.fwdstack import Stack
from bench.report import Row, Target
from bench.wsclient import percentile

BURST = 5000
OPEN_LOOP_RATE = 500.0
OPEN_LOOP_SECONDS = 20.0
HEALTHY_ENDPOINTS = 10
HANGING_ENDPOINTS = 5
HANG_RATE = 10.0  # events per second to each hanging endpoint
HANG_TIMEOUT = 5  # seconds: each of their attempts ends here
RETRIES = 1000
RETRY_RATE = 200.0
RETRY_DELAY = 2


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None


def _cpu_rows(name: str, spent: dict[str, float], deliveries: int) -> list[Row]:
    per = max(1, deliveries)
    return [
        Row(name, f"{part} CPU / delivery", spent[part] / per * 1e6, "us", note=f"{spent[part]:.1f} s in all")
        for part in ("worker", "web", "postgres")
    ]


def _accounting(name: str, arrived: fwdstack.Arrived) -> list[Row]:
    return [
        Row(name, "duplicates at destination", arrived.duplicates, "", Target("==", 0)),
        Row(name, "missing at destination", arrived.missing, "", Target("==", 0)),
    ]


def _measure(stack: Stack, load: Callable[[], list[fwdstack.Sent]], timeout: float, copies: int = 1):
    before = stack.cpu()
    started = time.time()
    sent = load()
    arrived = fwdstack.wait_for(stack, sent, timeout, copies)
    return sent, arrived, fwdstack.cpu_spent(before, stack.cpu()), started


def burst(stack: Stack, notes: list[str], pgbench_tps: float | None, profile_to: os.PathLike | None) -> list[Row]:
    name = f"burst {BURST:,} -> 1 endpoint, {stack.workers} worker process{'es' if stack.workers > 1 else ''}"
    [token] = stack.endpoints([("burst", "/burst", 10, [60])]).values()
    sent, arrived, spent, started = _measure(stack, lambda: fwdstack.burst(stack, token, BURST), timeout=180)
    last = max(arrived.first.values(), default=started)
    ingest_s = max(s.scheduled for s in sent) - started if sent else 0
    rate = len(arrived.first) / (last - started) if last > started else None
    rows = [
        Row(name, "deliveries/s", rate, "/s", Target(">=", 1000, "/s"),
            f"{len(arrived.first):,} of {len(sent):,} at the destination {last - started:.1f}s after the first POST "
            f"(posting took {ingest_s:.1f}s)"),
    ]
    if stack.workers > 1:
        rows.append(Row(name, "deliveries/s / pgbench tps", rate / pgbench_tps if rate and pgbench_tps else None, "",
                        note=f"pgbench INSERT {pgbench_tps or 0:,.0f} tps in this run"))
    rows += _accounting(name, arrived) + _cpu_rows(name, spent, len(arrived.first))
    if profile_to:
        notes += _profiled_burst(stack, name, token, Path(profile_to))
    return rows + _drain(stack, name)


def _profiled_burst(stack: Stack, name: str, token: str, raw: Path) -> list[str]:
    """The same burst again with py-spy sampling one worker and the web
    processes, unscored: on 2 cores the sampling itself slowed the burst by
    half when it ran beside the measured one."""
    web_raw = raw.with_name(f"web-{raw.name}")
    spies = [("one worker process", fwdstack.profile(stack.worker_procs[0].pid, 8, raw), raw),
             ("web processes", fwdstack.profile(stack.web.pid, 8, web_raw, children=True), web_raw)]
    sent = fwdstack.burst(stack, token, BURST)
    fwdstack.wait_for(stack, sent, timeout=180)
    notes = []
    for what, spy, path in spies:
        if spy is None:
            continue
        spy.wait(30)
        frames, samples = fwdstack.top_frames(path)
        kept = Path(tempfile.gettempdir()) / f"hookline-{path.name}"
        if path.exists():
            shutil.copyfile(path, kept)
        notes.append(f"note ({name}, a second, unscored burst): py-spy, {what}, {samples:,} busy samples (raw: {kept}): {frames}")
    return notes


def _drain(stack: Stack, name: str) -> list[Row]:
    """Forwarding alone: the burst is stored while its endpoint is paused, then
    released at once, so the ingest rate of a busy box does not pace it."""
    [token] = stack.endpoints([("drain", "/drain", 10, [60])]).values()
    stack.pause(token, True)
    sent = fwdstack.burst(stack, token, BURST)
    before = stack.cpu()
    resumed = stack.pause(token, False)
    arrived = fwdstack.wait_for(stack, sent, timeout=180)
    spent = fwdstack.cpu_spent(before, stack.cpu())
    last = max(arrived.first.values(), default=resumed)
    rate = len(arrived.first) / (last - resumed) if last > resumed else None
    return [
        Row(name, "drain deliveries/s", rate, "/s", Target(">=", 1000, "/s"),
            f"{len(arrived.first):,} held events released at once, all at the destination {last - resumed:.1f}s later"),
        Row(name, "drain duplicates + missing", arrived.duplicates + arrived.missing, "", Target("==", 0)),
        Row(name, "drain worker CPU / delivery", spent["worker"] / max(1, len(arrived.first)) * 1e6, "us",
            note=f"postgres {spent['postgres'] / max(1, len(arrived.first)) * 1e6:,.0f} us"),
    ]


def _latencies(sent: list[fwdstack.Sent], arrived: fwdstack.Arrived, tokens: set[str]) -> list[float]:
    return [arrived.first[s.event_id] - s.scheduled for s in sent if s.token in tokens and s.event_id in arrived.first]


def open_loop(stack: Stack, hanging: bool, baseline_p99_ms: float | None) -> tuple[list[Row], float | None]:
    tag = "iso" if hanging else "ol"
    specs = [(f"{tag}-ok-{i}", f"/ok/{tag}{i}", 10, [60]) for i in range(HEALTHY_ENDPOINTS)]
    if hanging:
        specs += [(f"{tag}-hang-{i}", f"/hang/{i}", HANG_TIMEOUT, [60]) for i in range(HANGING_ENDPOINTS)]
    tokens = stack.endpoints(specs)
    healthy = {t for n, t in tokens.items() if "-ok-" in n}
    load = [(t, OPEN_LOOP_RATE / HEALTHY_ENDPOINTS) for t in healthy]
    load += [(t, HANG_RATE) for n, t in tokens.items() if "-hang-" in n]
    stack.vacuum()
    before = stack.cpu()
    sent = fwdstack.open_loop(stack, load, OPEN_LOOP_SECONDS)
    # Hanging endpoints never take their events: wait for the healthy ones only.
    healthy_sent = [s for s in sent if s.token in healthy]
    arrived = fwdstack.wait_for(stack, healthy_sent, timeout=60)
    spent = fwdstack.cpu_spent(before, stack.cpu())
    latencies = _latencies(healthy_sent, arrived, healthy)
    p99 = _ms(percentile(latencies, 99))
    if hanging:
        name = f"isolation: open loop beside {HANGING_ENDPOINTS} hanging endpoints"
        target = Target("<=", 2 * baseline_p99_ms, "ms") if baseline_p99_ms else None
        note = f"healthy endpoints only; without the hanging ones p99 was {baseline_p99_ms or 0:.1f} ms"
    else:
        name = f"open loop {OPEN_LOOP_RATE:.0f} ev/s over {HEALTHY_ENDPOINTS} endpoints"
        target, note = Target("<=", 100, "ms"), "receive (scheduled send) -> destination"
    rows = [
        Row(name, "events", len(healthy_sent), "", note=f"{OPEN_LOOP_SECONDS:.0f}s; all posts: {len(sent):,}"),
        Row(name, "latency p50", _ms(percentile(latencies, 50)), "ms", Target("<=", 20, "ms") if not hanging else None),
        Row(name, "latency p99", p99, "ms", target, note),
        Row(name, "latency max", _ms(max(latencies, default=None)), "ms"),
    ]
    return rows + _accounting(name, arrived) + _cpu_rows(name, spent, len(arrived.first)), p99


def retry_lateness(stack: Stack, database_url: str) -> list[Row]:
    name = f"retry lateness, {RETRIES:,} retries due {RETRY_DELAY}s after a 500"
    [token] = stack.endpoints([("flaky", "/flaky/", 10, [RETRY_DELAY])]).values()
    load = lambda: fwdstack.open_loop(stack, [(token, RETRY_RATE)], RETRIES / RETRY_RATE)  # noqa: E731
    sent, arrived, spent, _ = _measure(stack, load, timeout=90, copies=2)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT extract(epoch FROM second.started_at - first.next_retry_at)
                 FROM deliveries_deliveryattempt first
                 JOIN deliveries_deliveryattempt second ON second.event_id = first.event_id AND second.attempt = 2
                 JOIN events_event e ON e.id = first.event_id
                WHERE first.attempt = 1 AND e.public_id = ANY(%s)""",
            ([s.event_id for s in sent],),
        ).fetchall()
    late = [float(r[0]) for r in rows]
    return [
        Row(name, "retries made", len(late), "", Target("==", len(sent)), f"of {len(sent):,} events posted"),
        Row(name, "lateness p50", _ms(percentile(late, 50)), "ms", note="second attempt's start - its due time"),
        Row(name, "lateness p99", _ms(percentile(late, 99)), "ms", Target("<=", 1000, "ms")),
        Row(name, "lateness max", _ms(max(late, default=None)), "ms"),
    ] + _accounting(name, arrived) + _cpu_rows(name, spent, 2 * len(arrived.first))
