"""`python -m bench`: set up, run every section, print the tables, clean up."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import prepare, servers, wrk
from bench.config import REPO, BenchConfig
from bench.cpu import machine_busy_share
from bench.procs import BenchError, Processes, log_tail, raise_on_sigterm
from bench.report import Row, section_table, targets_table
from bench.wsclient import raise_fd_limit
from bench.sections import SECTIONS, Context


def _say(text: str) -> None:
    print(text, flush=True)


def _use_server(ctx: Context, name: str | None) -> None:
    """Make `name` the one running server (None: none)."""
    if ctx.server is not None and ctx.server.name != name:
        ctx.procs.stop(ctx.server.child)
        ctx.server = None
    if name is not None and ctx.server is None:
        ctx.server = servers.start(name, ctx.cfg, ctx.procs, ctx.workdir)
        _say(f"[{name} answers on port {ctx.server.port} after {ctx.server.started_in_s:.1f}s]")


def run(cfg: BenchConfig, procs: Processes, workdir: Path) -> list[Row]:
    busy = machine_busy_share(1.0)
    cores = os.cpu_count() or 1
    _say(f"== machine: {cores} cores, {busy * cores:.2f} cores busy before the run, load average {os.getloadavg()[0]:.2f}")
    if busy > 0.15:
        _say("   other work is running on this box: expect lower, noisier figures")
    began = time.monotonic()
    # Before any server starts: servers inherit it (2,000 WebSockets later).
    soft, hard = raise_fd_limit()
    _say(f"== open files: soft limit {soft:,} (hard {hard:,}), for this process and the servers it starts")
    _say(f"== setup: app {REPO}, database {cfg.db_name}, redis {cfg.redis_url}")
    prepare.flush_redis(cfg)
    prepare.recreate_database(cfg)
    inbox = prepare.migrate_and_create_inbox(cfg, procs)
    _say(f"[migrated and created an inbox in {time.monotonic() - began:.1f}s]")
    ctx = Context(
        cfg=cfg, procs=procs, workdir=workdir, token=inbox.token, wrk_script=wrk.write_script(workdir),
        endpoint_id=inbox.endpoint_id, api_key=inbox.api_key,
    )
    rows: list[Row] = []
    # BENCH_ONLY=WebSocket runs only the sections whose name contains it.
    only = os.environ.get("BENCH_ONLY", "").lower()
    for section in [s for s in SECTIONS if only in s.name.lower()]:
        _use_server(ctx, section.server)
        _say(f"\n== {section.name}")
        started = time.monotonic()
        new = section.run(ctx)
        _say(section_table(new))
        _say(f"[{time.monotonic() - started:.1f}s]")
        rows.extend(new)
    _use_server(ctx, None)
    _say(f"\n== targets (2 cores, one run; {time.monotonic() - began:.0f}s in all)")
    _say(targets_table(rows))
    for note in ctx.notes:
        _say(note)
    return rows


def main() -> int:
    raise_on_sigterm()
    cfg = BenchConfig()
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="hookline-bench-"))
    finished = False
    try:
        run(cfg, procs, workdir)
        finished = True
        return 0
    except KeyboardInterrupt:
        _say("\nbench: interrupted")
        return 130
    except BenchError as exc:
        _say(f"\nbench: {exc}")
        return 1
    finally:
        procs.stop_all()
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for log in sorted(workdir.glob("*.log")):
                _say(f"--- {log}\n{log_tail(log)}")
            _say(f"bench: logs kept in {workdir}")


if __name__ == "__main__":
    sys.exit(main())
