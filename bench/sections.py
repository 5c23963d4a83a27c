"""The measurements of a run, in order. Each section names the server it
needs ("uvicorn", "daphne" or None: no server running) and returns rows.

A later section (WebSocket fan-out, say) is one more `Section` in SECTIONS;
if it makes the server store events it adds its 200 answers to
`ctx.answers` before the "stored" section runs so the accounting stays whole.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import openloop, pgbench, prepare, wrk
from bench.config import BenchConfig
from bench.cpu import CpuWindow
from bench.procs import Processes
from bench.report import Row, Target
from bench.servers import Server


@dataclass
class Context:
    cfg: BenchConfig
    procs: Processes
    workdir: Path
    token: str
    wrk_script: Path
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


def _wrk_rows(name: str, m: Measured, req_s_target: Target | None, strict: bool = True) -> list[Row]:
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
        Row(name, "server CPU / request", cpu.server_s / answers * 1e6, "us",
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
    rows = _wrk_rows(name, measured, Target(">=", cfg.targets.ingest_req_s, "req/s"))
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


SECTIONS: list[Section] = [
    Section("ingest throughput (wrk)", "uvicorn", ingest_uvicorn),
    Section("open-loop latency", "uvicorn", open_loop),
    Section("stored events vs 200 answers", None, stored_events),
    Section("pgbench single-row INSERT", None, pgbench_insert),
    Section("daphne, same app (note)", "daphne", daphne_note),
]
