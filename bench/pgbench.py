"""pgbench: the ceiling for one committed single-row INSERT per request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bench.config import BODY, BenchConfig
from bench.prepare import admin_connection
from bench.procs import BenchError, Processes


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    transactions: int
    latency_ms: float | None


def run(cfg: BenchConfig, procs: Processes, workdir: Path) -> PgbenchResult:
    with admin_connection(cfg, cfg.db_name) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_t")
        conn.execute("CREATE TABLE bench_t(body text)")
    literal = BODY.decode().replace("'", "''")
    script = workdir / "insert.sql"
    script.write_text(f"INSERT INTO bench_t(body) VALUES ('{literal}');\n")
    cmd = [
        "pgbench", "-n", f"-c{cfg.pgbench_clients}", f"-j{cfg.pgbench_threads}", f"-T{cfg.pgbench_seconds}",
        "-f", str(script), "-h", cfg.pg_host, "-p", str(cfg.pg_port), "-U", cfg.pg_user, cfg.db_name,
    ]
    done = procs.run(cmd, timeout=cfg.pgbench_seconds + 30)
    tps = re.search(r"^tps = ([\d.]+)", done.stdout, re.MULTILINE)
    count = re.search(r"^number of transactions actually processed: (\d+)", done.stdout, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", done.stdout, re.MULTILINE)
    if tps is None or count is None:
        raise BenchError(f"pgbench printed no tps:\n{done.stdout}\n{done.stderr}")
    return PgbenchResult(float(tps.group(1)), int(count.group(1)), float(latency.group(1)) if latency else None)
