"""Every knob of a bench run in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

BENCH_ROOT = Path(__file__).resolve().parent.parent
# The checkout whose app is measured: this one, or a candidate copy of it
# (BENCH_APP_DIR=/path/to/copy make bench) run with this checkout's .venv.
REPO = Path(os.environ.get("BENCH_APP_DIR", BENCH_ROOT)).resolve()

# A 90-byte JSON body, like a small payment webhook.
BODY = b'{"type":"invoice.paid","id":"evt_bench01","amount":4200,"currency":"usd","livemode":false}'
assert len(BODY) == 90, len(BODY)


@dataclass(frozen=True)
class Targets:
    """The issue's targets (issue 11: hot paths at the limit)."""

    ingest_req_s: float = 1500.0
    ratio_to_pgbench: float = 0.35
    server_cpu_us_per_request: float = 150.0  # under wrk, all uvicorn processes
    open_loop_p99_ms: float = 20.0  # at open_loop_rate
    ws_p99_ms: float = 10.0  # receive -> WebSocket client at ws_rate
    fanout_last_p99_ms: float = 150.0  # POST -> the last of fanout_clients sockets


@dataclass(frozen=True)
class BenchConfig:
    # Another checkout's bench on the same box would drop this database and
    # flush this Redis db mid-run: BENCH_DB_NAME / BENCH_REDIS_URL keep runs apart.
    db_name: str = field(default_factory=lambda: os.environ.get("BENCH_DB_NAME", "hookline_bench"))
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    redis_url: str = field(default_factory=lambda: os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    channel_prefix: str = "bench"  # of the channel layer's Redis channels
    host: str = "127.0.0.1"  # all traffic stays on loopback
    web_workers: str = field(default_factory=lambda: os.environ.get("WEB_WORKERS", "2"))
    # wrk: the command of the issue, `wrk -t2 -c32 -d10s --latency`.
    wrk_threads: int = 2
    wrk_connections: int = 32
    wrk_seconds: int = 10
    # Each wrk connection stops sending this long before wrk stops, so no
    # request is in flight (stored but uncounted) when wrk exits.
    wrk_drain_seconds: float = 0.5
    warmup_seconds: int = 2
    open_loop_rate: float = 1000.0
    open_loop_seconds: float = 10.0
    open_loop_connections: int = 32
    request_timeout_s: float = 5.0
    pgbench_clients: int = 16
    pgbench_threads: int = 2
    pgbench_seconds: int = 10
    server_start_timeout_s: float = 40.0
    # WebSocket sections (/v1/ws, API-key token, subscribed to the inbox).
    ws_rate: float = 500.0
    ws_note_rate: float = 200.0  # the earlier figure, kept as a note for continuity
    ws_seconds: float = 10.0
    ws_warmup_seconds: float = 1.0
    ws_wait_s: float = 5.0  # for the last messages once sending stops
    ws_connect_concurrency: int = 50
    ws_connect_timeout_s: float = 10.0
    fanout_clients: int = 1000
    fanout_note_clients: int = 500  # likewise
    fanout_events: int = 10
    fanout_interval_s: float = 0.5
    idle_connections: int = 2000
    # The per-user limit (default 10) would refuse all but 10 of those.
    ws_max_connections_per_user: int = 5000
    targets: Targets = field(default_factory=Targets)

    @property
    def database_url(self) -> str:
        return f"postgres://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.db_name}"

    @property
    def python(self) -> str:
        return str(BENCH_ROOT / ".venv" / "bin" / "python")

    def django_env(self) -> dict[str, str]:
        """The environment of every Django process of the run."""
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.database_url,
            SECRET_KEY="bench",
            DEBUG="0",
            REDIS_URL=self.redis_url,
            CHANNEL_PREFIX=self.channel_prefix,
            CELERY_QUEUE="bench",
            HOST=self.host,
            PYTHONUNBUFFERED="1",
            WS_MAX_CONNECTIONS_PER_USER=str(self.ws_max_connections_per_user),
        )
        return env
