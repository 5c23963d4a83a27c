"""Monitoring's sections of `make bench`: the report endpoint's throughput
(`/m/<token>/success` under wrk, like ingest) and what the minute's detector
run costs with 1,000 active endpoints."""

from __future__ import annotations

from bench import prepare, wrk
from bench.procs import BenchError
from bench.report import Row, Target

DETECTOR_ENDPOINTS = 1000

# Run in `manage.py shell` on the bench database: 1,000 endpoints with 70
# minutes of steady rollups each (what the detectors read), then the minute's
# flush + detector run, timed three times.
_DETECTORS = """
import random, time
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from endpoints.models import Endpoint, Health
from monitoring import rollups, runner
from monitoring.counters import floor_minute
from monitoring.models import Rollup
owner = get_user_model().objects.create_user("bench-detectors", password="unused-bench-password-1")
endpoints = Endpoint.objects.bulk_create(
    [Endpoint(owner=owner, name=f"detect {n}", health=Health.HEALTHY) for n in range(ENDPOINT_COUNT)])
now = timezone.now()
start = floor_minute(now)
rng = random.Random(1)
rows = [Rollup(endpoint=e, minutes=1, start=start - timedelta(minutes=back), events=(n := rng.randint(8, 12)),
               attempts_ok=n, latency=[0] * 11 + [n] + [0] * 19)
        for e in endpoints for back in range(70)]
Rollup.objects.bulk_create(rows, batch_size=5000)
times = []
for _ in range(3):
    began = time.perf_counter()
    rollups.flush(timezone.now())
    changes = runner.run(timezone.now())
    times.append(time.perf_counter() - began)
print("BENCH_DETECT_ENDPOINTS=%d" % changes["endpoints"])
print("BENCH_DETECT_OPENED=%d" % changes["opened"])
print("BENCH_DETECT_SECONDS=" + ",".join("%.3f" % t for t in times))
"""


def _report_token(ctx) -> str:
    with prepare.admin_connection(ctx.cfg, ctx.cfg.db_name) as conn:
        row = conn.execute(
            "SELECT report_token FROM endpoints_endpoint WHERE public_id = %s", [ctx.endpoint_id]
        ).fetchone()
    if row is None:
        raise BenchError("the bench inbox has no report token")
    return row[0]


def report_throughput(ctx) -> list[Row]:
    """wrk POSTing `/m/<token>/success`; every answer is one stored report."""
    # bench.sections lists this module's sections: import its helpers late.
    from bench.cpu import CpuWindow
    from bench.sections import Measured, _children_cpu, _wrk_rows

    cfg, server = ctx.cfg, ctx.running()
    url = server.url(f"/m/{_report_token(ctx)}/success")
    wrk.run(cfg, ctx.procs, url, ctx.wrk_script, cfg.warmup_seconds)
    window = CpuWindow(server.child.pid, prepare.backend_pids(cfg))
    wrk0 = _children_cpu()
    window.start()
    result = wrk.run(cfg, ctx.procs, url, ctx.wrk_script, cfg.wrk_seconds)
    window.stop(prepare.backend_pids(cfg))
    measured = Measured(result, window, _children_cpu() - wrk0)
    with prepare.admin_connection(cfg, cfg.db_name) as conn:
        stored = conn.execute("SELECT count(*) FROM monitoring_report").fetchone()[0]
    rows = _wrk_rows(f"reports uvicorn x{cfg.web_workers}", measured, Target(">=", cfg.targets.ingest_req_s, "req/s"))
    rows.append(Row(rows[0].section, "reports stored", stored, "", note="warm-up and measured run together"))
    return rows


def detector_cost(ctx) -> list[Row]:
    script = _DETECTORS.replace("ENDPOINT_COUNT", str(DETECTOR_ENDPOINTS))
    found = prepare.shell_printed(
        ctx.cfg, ctx.procs, script, "BENCH_DETECT_", ("SECONDS", "ENDPOINTS", "OPENED"), 600, "the detector run"
    )
    times = [float(value) for value in found["SECONDS"].split(",")]
    name = f"detectors, {DETECTOR_ENDPOINTS:,} endpoints"
    return [
        Row(name, "flush + detectors per minute", min(times), "s", Target("<=", 10.0, "s"),
            note=f"runs {', '.join(f'{t:.2f}' for t in times)} s; {found['ENDPOINTS']} endpoints examined, "
                 f"{found['OPENED']} alerts opened on steady traffic (must be 0)"),
        Row(name, "alerts opened on steady traffic", int(found["OPENED"]), "", Target("==", 0)),
    ]
