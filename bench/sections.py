"""The measurements of a run, in order. Each section names the server it
needs ("uvicorn", "daphne" or None: no server running) and returns rows.

A later section is one more `Section` in SECTIONS; if it makes the server
store events before the "stored" section runs, it adds its 200 answers to
`ctx.answers` so the accounting stays whole. The WebSocket sections come
after it and account for their own events (each sent event must reach the
clients).
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench import fwdsections, fwdstack, monitorsections, openloop, pgbench, prepare, searchsections, wrk, wsloads
from bench.config import BenchConfig
from bench.cpu import CpuWindow
from bench.procs import Processes
from bench.report import Row, Target
from bench.servers import Server
from bench.wsclient import percentile


@dataclass
class Context:
    cfg: BenchConfig
    procs: Processes
    workdir: Path
    token: str
    wrk_script: Path
    endpoint_id: str = ""  # the inbox's ep_…
    api_key: str = ""  # an API key of its owner, for /v1/ws
    server: Server | None = None
    answers: dict[str, int] = field(default_factory=dict)  # 200 answers per load, all stored events
    values: dict[str, float] = field(default_factory=dict)  # figures later sections compare with
    notes: list[str] = field(default_factory=list)  # extra lines under the final table

    @property
    def ingest_path(self) -> str:
        return f"/in/{self.token}"

    def running(self) -> Server:
        assert self.server is not None, "this section needs a server"
        return self.server


@dataclass(frozen=True)
class Section:
    name: str
    server: str | None
    run: Callable[[Context], list[Row]]


@dataclass(frozen=True)
class Measured:
    result: wrk.WrkResult
    cpu: CpuWindow
    wrk_cpu_s: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wrk_measured(ctx: Context, seconds: int) -> Measured:
    """wrk against the running server, with the CPU each party spent."""
    server = ctx.running()
    window = CpuWindow(server.child.pid, prepare.backend_pids(ctx.cfg))
    wrk0 = _children_cpu()
    window.start()
    result = wrk.run(ctx.cfg, ctx.procs, server.url(ctx.ingest_path), ctx.wrk_script, seconds)
    window.stop(prepare.backend_pids(ctx.cfg))
    return Measured(result, window, _children_cpu() - wrk0)


def _wrk_rows(
    name: str, m: Measured, req_s_target: Target | None, strict: bool = True, cpu_target: Target | None = None
) -> list[Row]:
    result, cpu = m.result, m.cpu
    answers = max(1, result.ok + result.other)
    cores = os.cpu_count() or 1
    others = max(0.0, cpu.machine_busy_s - cpu.server_s - cpu.postgres_s - m.wrk_cpu_s)
    zero = Target("==", 0) if strict else None
    return [
        Row(name, "throughput", result.req_s, "req/s", req_s_target,
            f"{result.ok + result.other:,} answers in {result.busy_s:.2f}s busy (wrk's own: {result.wrk_req_s:,.0f} req/s over -d)"),
        Row(name, "latency p50", result.p50_ms, "ms"),
        Row(name, "latency p99", result.p99_ms, "ms", note=f"p90 {result.p90_ms:.1f} ms, max {result.max_ms:.1f} ms"),
        Row(name, "non-2xx answers", result.non_2xx, "", zero, f"wrk's status errors (>399): {result.non_2xx_3xx}"),
        Row(name, "socket errors", result.socket_errors, "", zero),
        Row(name, "server CPU / request", cpu.server_s / answers * 1e6, "us", cpu_target,
            note=f"{cpu.server_s / cpu.wall_s:.2f} of {cores} cores" if cpu.wall_s else ""),
        Row(name, "postgres CPU / request", cpu.postgres_s / answers * 1e6, "us", note="backends of the bench db"),
        Row(name, "wrk CPU / request", m.wrk_cpu_s / answers * 1e6, "us"),
        Row(name, "other processes' CPU", others / cpu.wall_s if cpu.wall_s else None, "cores",
            note="not ours: WAL writer, other work on the box; high means noisy figures"),
    ]


def ingest_uvicorn(ctx: Context) -> list[Row]:
    cfg, server = ctx.cfg, ctx.running()
    warm = wrk.run(cfg, ctx.procs, server.url(ctx.ingest_path), ctx.wrk_script, cfg.warmup_seconds)
    ctx.answers["wrk warm-up"] = warm.ok
    measured = _wrk_measured(ctx, cfg.wrk_seconds)
    ctx.answers["wrk"] = measured.result.ok
    ctx.values["ingest_req_s"] = measured.result.req_s
    name = f"ingest uvicorn x{cfg.web_workers}"
    rows = _wrk_rows(
        name, measured, Target(">=", cfg.targets.ingest_req_s, "req/s"),
        cpu_target=Target("<=", cfg.targets.server_cpu_us_per_request, "us"),
    )
    rows.append(Row(name, "warm-up", warm.req_s, "req/s", note=f"{cfg.warmup_seconds}s, {warm.ok:,} answers, not scored"))
    return rows


def open_loop(ctx: Context) -> list[Row]:
    cfg, server = ctx.cfg, ctx.running()
    window = CpuWindow(server.child.pid, prepare.backend_pids(cfg))
    window.start()
    result = openloop.run(
        server.host, server.port, ctx.ingest_path, cfg.open_loop_rate, cfg.open_loop_seconds,
        cfg.open_loop_connections, cfg.request_timeout_s,
    )
    window.stop(prepare.backend_pids(cfg))
    ctx.answers["open-loop"] = result.ok
    answers = max(1, result.answered)
    name = f"open loop {cfg.open_loop_rate:.0f}/s"
    errors = ", ".join(f"{k} {v}" for k, v in sorted(result.errors.items())) or "none"
    return [
        Row(name, "achieved rate", result.achieved_rate, "req/s",
            note=f"{result.answered:,}/{result.scheduled:,} answered; dispatcher lag max {result.max_dispatch_lag_s * 1000:.1f} ms"),
        Row(name, "latency p50", result.percentile_ms(50), "ms"),
        Row(name, "latency p99", result.percentile_ms(99), "ms", Target("<=", cfg.targets.open_loop_p99_ms, "ms"),
            "from scheduled send time"),
        Row(name, "latency max", result.max_ms, "ms"),
        Row(name, "errors", result.failed, "", Target("==", 0), errors),
        Row(name, "server CPU / request", window.server_s / answers * 1e6, "us",
            note=f"{window.server_s / window.wall_s:.2f} cores" if window.wall_s else ""),
        Row(name, "postgres CPU / request", window.postgres_s / answers * 1e6, "us"),
    ]


def stored_events(ctx: Context) -> list[Row]:
    stored = prepare.count_events(ctx.cfg)
    answered = sum(ctx.answers.values())
    parts = " + ".join(f"{label} {n:,}" for label, n in ctx.answers.items())
    return [
        Row("stored vs answered", "200 answers", answered, "", note=parts),
        Row("stored vs answered", "Event rows", stored, "", Target("==", answered), "must equal the 200 answers"),
    ]


def pgbench_insert(ctx: Context) -> list[Row]:
    cfg = ctx.cfg
    result = pgbench.run(cfg, ctx.procs, ctx.workdir)
    ctx.values["pgbench_tps"] = result.tps
    ingest = ctx.values.get("ingest_req_s")
    ratio = ingest / result.tps if ingest is not None and result.tps > 0 else None
    name = "pgbench INSERT"
    return [
        Row(name, "tps", result.tps, "tx/s",
            note=f"-c{cfg.pgbench_clients} -j{cfg.pgbench_threads} -T{cfg.pgbench_seconds}, "
                 f"{result.transactions:,} tx, avg {result.latency_ms} ms"),
        Row(name, "ingest / pgbench", ratio, "", Target(">=", cfg.targets.ratio_to_pgbench)),
    ]


def daphne_note(ctx: Context) -> list[Row]:
    cfg = ctx.cfg
    measured = _wrk_measured(ctx, cfg.wrk_seconds)
    result = measured.result
    ctx.answers["daphne wrk"] = result.ok
    uvicorn = ctx.values.get("ingest_req_s")
    times = f"; uvicorn x{cfg.web_workers} is {uvicorn / result.req_s:.1f}x" if uvicorn and result.req_s else ""
    ctx.notes.append(
        f"note: daphne (1 process, default access log) same wrk: {result.req_s:,.0f} req/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}{times}"
    )
    return _wrk_rows("daphne (note only)", measured, None, strict=False)


def _log_size(server: Server) -> int:
    try:
        return server.log.stat().st_size
    except OSError:
        return 0


def _log_errors(server: Server, offset: int) -> str:
    """Tracebacks the server logged since `offset`, by exception class."""
    try:
        with open(server.log, "rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
    except OSError:
        return "server log unreadable"
    kinds: Counter[str] = Counter()
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            # The exception line ends the traceback: "pkg.mod.Name: message".
            kinds[line.split(":", 1)[0].rsplit(".", 1)[-1].strip()[:40]] += 1
            in_traceback = False
    if not kinds:
        return "server log: no tracebacks"
    return f"server log: {sum(kinds.values())} tracebacks ({_counts(kinds)})"


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None


def _ws_target(ctx: Context) -> wsloads.Target:
    server = ctx.running()
    return wsloads.Target(server.host, server.port, ctx.ingest_path, ctx.endpoint_id, ctx.api_key)


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"


def redis_snapshot(cfg: BenchConfig, endpoint_id: str) -> str:
    """Redis connections and subscriptions of the bench db (ours excluded)."""
    client = redis.Redis.from_url(cfg.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        me = client.client_id()
        db = int(client.connection_pool.connection_kwargs.get("db", 0))
        others = [c for c in client.client_list() if int(c.get("db", -1)) == db and int(c["id"]) != me]
        subscribed = [c for c in others if int(c.get("sub", 0)) + int(c.get("psub", 0))]
        channels = sum(int(c.get("sub", 0)) for c in others)
        group = f"{cfg.channel_prefix}__group__endpoint.{endpoint_id}"
        members = dict(client.pubsub_numsub(group)).get(group.encode(), 0)
        return (
            f"Redis db {db}: {len(others)} client connections, {len(subscribed)} in pub/sub mode holding "
            f"{channels:,} channel subscriptions; the endpoint's group channel has {members} subscriber(s)"
        )
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"Redis figures unavailable ({exc})"
    finally:
        client.close()


def ws_latency(ctx: Context) -> list[Row]:
    return _ws_latency(ctx, ctx.cfg.ws_rate, scored=True)


def ws_latency_note(ctx: Context) -> list[Row]:
    return _ws_latency(ctx, ctx.cfg.ws_note_rate, scored=False)


def _ws_latency(ctx: Context, rate: float, scored: bool) -> list[Row]:
    cfg = ctx.cfg
    log_at = _log_size(ctx.running())
    result = wsloads.run(wsloads.latency(
        _ws_target(ctx), rate, cfg.ws_seconds, cfg.ws_warmup_seconds, cfg.open_loop_connections,
        cfg.request_timeout_s, cfg.ws_wait_s, lambda: redis_snapshot(cfg, ctx.endpoint_id),
    ))
    load = result.load
    name = f"WS receive->client {rate:.0f}/s" + ("" if scored else " (note)")
    t = cfg.targets
    ctx.notes.append(
        f"note ({name}): 1 client, uvicorn x{cfg.web_workers}; {result.snapshot}; {_log_errors(ctx.running(), log_at)}"
    )
    return [
        Row(name, "200 answers", result.sent, "",
            note=f"{load.answered:,}/{load.scheduled:,} answered at {load.achieved_rate:.0f}/s, errors: {_counts(load.errors)}; "
                 f"answer p50 {load.percentile_ms(50) or 0:.1f} ms, p99 {load.percentile_ms(99) or 0:.1f} ms"),
        Row(name, "event.received at client", result.received, "", Target("==", result.sent) if scored else None,
            f"strays {result.strays}, other messages: {_counts(result.other)}; "
            f"warm-up {cfg.ws_warmup_seconds:.0f}s ({result.warmup.ok} events) not scored"),
        Row(name, "latency p50", _ms(percentile(result.latencies_s, 50)), "ms", note="WebSocket receipt - scheduled send"),
        Row(name, "latency p99", _ms(percentile(result.latencies_s, 99)), "ms",
            Target("<=", t.ws_p99_ms, "ms") if scored else None),
        Row(name, "latency max", _ms(max(result.latencies_s, default=None)), "ms"),
        Row(name, "after the 200 answer p50", _ms(percentile(result.after_answer_s, 50)), "ms",
            note=f"p99 {_ms(percentile(result.after_answer_s, 99)) or 0:.1f} ms: publish -> Redis -> consumer -> socket"),
    ]


def ws_fanout(ctx: Context) -> list[Row]:
    return _ws_fanout(ctx, ctx.cfg.fanout_clients, scored=True)


def ws_fanout_note(ctx: Context) -> list[Row]:
    return _ws_fanout(ctx, ctx.cfg.fanout_note_clients, scored=False)


def _ws_fanout(ctx: Context, n: int, scored: bool) -> list[Row]:
    cfg = ctx.cfg
    log_at = _log_size(ctx.running())
    result = wsloads.run(wsloads.fanout(
        _ws_target(ctx), n, cfg.ws_connect_concurrency, cfg.fanout_events, cfg.fanout_interval_s,
        cfg.ws_connect_timeout_s, cfg.ws_wait_s, ctx.running().child.pid,
        lambda: redis_snapshot(cfg, ctx.endpoint_id),
    ))
    name = f"WS fan-out to {n}" + ("" if scored else " (note)")
    lasts = [e.last_s for e in result.events if e.last_s is not None]
    delays = [d for e in result.events for d in e.delays_s]
    expected = result.clients * len(result.events)
    per_event_cpu = result.client_cpu_s / max(1, len(result.events))
    server_per_event = result.server_cpu_s / max(1, len(result.events))
    ctx.notes.append(
        f"note ({name}): all {n} clients in ONE process (asyncio+uvloop), not split: on {os.cpu_count()} cores "
        f"a second client process would only compete with the server for the same cores. Per event the client "
        f"process spent {per_event_cpu * 1000:.0f} ms CPU ({result.client_cpu_s / max(1, len(delays)) * 1e6:.0f} us "
        f"per delivery), the server (uvicorn x{cfg.web_workers}) {server_per_event * 1000:.0f} ms "
        f"({server_per_event / max(1, result.clients) * 1e6:.0f} us per delivery); "
        f"extensions: {result.extensions or 'none'}; {result.snapshot}; "
        f"all clients dropped at once: server done in {_secs(result.drained_s)}, {_log_errors(ctx.running(), log_at)}"
    )
    return [
        Row(name, "clients subscribed", result.clients, "", Target("==", n) if scored else None,
            f"in {result.connect_s:.1f}s, {cfg.ws_connect_concurrency} at a time; refused/failed: {_counts(result.connect_errors)}"),
        Row(name, "deliveries", len(delays), "", Target("==", expected) if scored else None,
            f"{len(result.events)} events x {result.clients} clients, one every {cfg.fanout_interval_s}s; "
            f"non-200 POSTs {sum(1 for e in result.events if e.status != 200)}; other messages: {_counts(result.other)}"),
        Row(name, "time until last p99", _ms(percentile(lasts, 99)), "ms",
            Target("<=", cfg.targets.fanout_last_p99_ms, "ms") if scored else None,
            f"over {len(lasts)} events (= their max); POST -> the last client's receipt"),
        Row(name, "time until last p50", _ms(percentile(lasts, 50)), "ms",
            note=f"min {_ms(min(lasts, default=None)) or 0:.1f} ms; warm-up event (not scored) {_ms(result.warmup.last_s) or 0:.1f} ms"),
        Row(name, "per-client p50", _ms(percentile(delays, 50)), "ms", note="all deliveries of the scored events"),
        Row(name, "per-client p99", _ms(percentile(delays, 99)), "ms"),
        Row(name, "client CPU / event", per_event_cpu * 1000, "ms",
            note="near 'time until last' would mean the client process is the bottleneck"),
        Row(name, "server CPU / event", server_per_event * 1000, "ms", note=f"uvicorn x{cfg.web_workers}, all processes"),
    ]


def ws_idle_memory(ctx: Context) -> list[Row]:
    cfg = ctx.cfg
    n = cfg.idle_connections
    pid = ctx.running().child.pid
    log_at = _log_size(ctx.running())
    result = wsloads.run(wsloads.idle(
        _ws_target(ctx), pid, n, cfg.ws_connect_concurrency, cfg.ws_connect_timeout_s, 1.0,
        lambda: redis_snapshot(cfg, ctx.endpoint_id),
    ))
    name = f"{n:,} idle WS, 1 process"
    grown = result.held_kib - result.rest_kib
    per = grown / result.still_open if result.still_open else None
    ctx.notes.append(
        f"note ({name}): pid {pid} is the uvicorn process itself (no --workers: no supervisor, no reloader); "
        f"its sockets {result.rest_sockets} -> {result.held_sockets}; "
        f"limit {_open_files_limit(pid)}; {result.snapshot}; "
        f"all clients dropped at once: server done in {_secs(result.drained_s)}, {_log_errors(ctx.running(), log_at)}"
    )
    return [
        Row(name, "connections subscribed", result.still_open, "", Target("==", n),
            f"{result.clients:,} subscribed in {result.connect_s:.1f}s, {cfg.ws_connect_concurrency} at a time, "
            f"{result.still_open:,} still open at the reading; failed: {_counts(result.connect_errors)}"),
        Row(name, "RSS at rest", result.rest_kib / 1024, "MiB", note="VmRSS after warm-up (3 webhooks, 1 socket)"),
        Row(name, f"RSS with {n:,}", result.held_kib / 1024, "MiB", note="each subscribed to the inbox (joins its group)"),
        Row(name, "per connection", per, "KiB",
            note=f"extensions: {result.extensions or 'none'} (websockets' default offer, like browsers); report only"),
    ]


def _secs(seconds: float | None) -> str:
    return f"{seconds:.1f}s" if seconds is not None else f"not within {wsloads.DRAIN_S:.0f}s"


def _open_files_limit(pid: int) -> str:
    with contextlib.suppress(OSError):  # the process may have exited
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return "open files " + " / ".join(line.split()[3:5])
    return "open files unknown"


def forwarding(ctx: Context) -> list[Row]:
    """Issue 8's figures: a stack with 1 worker process, then with the default
    number (WORKER_PROCESSES, else one per core). BENCH_FORWARDING_WORKERS
    ("1,2") and BENCH_FORWARDING_PARTS ("burst,open-loop,retry,isolation")
    narrow a run, e.g. to profile another checkout's burst only."""
    default = int(os.environ.get("WORKER_PROCESSES", os.cpu_count() or 1))
    counts = sorted({int(n) for n in os.environ.get("BENCH_FORWARDING_WORKERS", f"1,{default}").split(",")})
    parts = os.environ.get("BENCH_FORWARDING_PARTS", "burst,open-loop,retry,isolation").split(",")
    if "pgbench_tps" not in ctx.values:  # BENCH_ONLY=forwarding: the ratio still needs it
        ctx.values["pgbench_tps"] = pgbench.run(ctx.cfg, ctx.procs, ctx.workdir).tps
    rows: list[Row] = []
    rates: dict[int, float | None] = {}
    for workers in counts:
        stack = fwdstack.Stack(ctx.cfg, ctx.procs, ctx.workdir, workers)
        stack.start()
        try:
            profile = ctx.workdir / f"py-spy-{workers}.txt" if workers == counts[-1] else None
            burst = fwdsections.burst(stack, ctx.notes, ctx.values.get("pgbench_tps"), profile)
            rates[workers] = next(r.value for r in burst if r.metric == "drain deliveries/s")
            rows += burst
            if workers == counts[-1]:
                p99 = None
                if "open-loop" in parts:
                    plain, p99 = fwdsections.open_loop(stack, hanging=False, baseline_p99_ms=None)
                    rows += plain
                if "retry" in parts:
                    rows += fwdsections.retry_lateness(stack, ctx.cfg.database_url)
                if "isolation" in parts:
                    rows += fwdsections.open_loop(stack, hanging=True, baseline_p99_ms=p99)[0]
        finally:
            stack.stop()
    if len(counts) > 1 and rates.get(counts[0]) and rates.get(counts[-1]):
        low, high = counts[0], counts[-1]
        ctx.notes.append(
            f"note (sizing): drain deliveries/s with {low} worker process(es) {rates[low]:,.0f}, with {high} "
            f"{rates[high]:,.0f} ({rates[high] / rates[low]:.2f}x) on {os.cpu_count()} cores shared with "
            f"the web server, Postgres, Redis and the destination"
        )
    return rows


SECTIONS: list[Section] = [
    Section("ingest throughput (wrk)", "uvicorn", ingest_uvicorn),
    Section("open-loop latency", "uvicorn", open_loop),
    Section("stored events vs 200 answers", None, stored_events),
    Section("search indexing behind ingest", None, searchsections.indexing),
    Section("pgbench single-row INSERT", None, pgbench_insert),
    Section("daphne, same app (note)", "daphne", daphne_note),
    Section("receive -> WebSocket client latency", "uvicorn", ws_latency),
    Section("receive -> WebSocket client latency at the earlier rate (note)", "uvicorn", ws_latency_note),
    Section("WebSocket fan-out", "uvicorn", ws_fanout),
    Section("WebSocket fan-out to the earlier count (note)", "uvicorn", ws_fanout_note),
    Section("idle WebSocket connections, one uvicorn process", "uvicorn-1", ws_idle_memory),
    Section("forwarding engine", None, forwarding),
    Section("processing reports (wrk)", "uvicorn", monitorsections.report_throughput),
    Section("monitoring detectors at 1,000 endpoints", None, monitorsections.detector_cost),
]
