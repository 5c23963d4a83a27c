"""A fresh database and Redis db, migrated, with one user, one inbox
endpoint (no destination: nothing is forwarded) and an API key of that user
for the WebSocket stream."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
import redis
from psycopg import sql

from bench.config import REPO, BenchConfig
from bench.procs import BenchError, Processes

_CREATE_INBOX = """
from django.contrib.auth import get_user_model
from endpoints.models import ApiKey, Endpoint
owner = get_user_model().objects.create_user("bench")
endpoint = Endpoint.objects.create(owner=owner, name="bench inbox")
assert not endpoint.destination_url and not endpoint.rate_limit
_key, raw = ApiKey.issue(owner, "bench websocket")
print("BENCH_TOKEN=" + endpoint.ingest_token)
print("BENCH_ENDPOINT=" + endpoint.public_id)
print("BENCH_API_KEY=" + raw)
"""


@dataclass(frozen=True)
class Inbox:
    token: str  # of the ingest URL /in/<token>
    endpoint_id: str  # ep_…, what a WebSocket client subscribes to
    api_key: str  # hl_…, the WebSocket client's ?token=


def admin_connection(cfg: BenchConfig, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=cfg.pg_host, port=cfg.pg_port, user=cfg.pg_user, dbname=dbname, autocommit=True, connect_timeout=5
    )


def recreate_database(cfg: BenchConfig) -> None:
    with admin_connection(cfg) as conn:
        name = sql.Identifier(cfg.db_name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def flush_redis(cfg: BenchConfig) -> None:
    redis.Redis.from_url(cfg.redis_url, socket_connect_timeout=2).flushdb()


def migrate_and_create_inbox(cfg: BenchConfig, procs: Processes) -> Inbox:
    """Runs the migrations and creates the inbox and the API key."""
    env = cfg.django_env()
    manage = str(REPO / "manage.py")
    procs.run([cfg.python, manage, "migrate", "--noinput", "-v", "0"], timeout=120, env=env, cwd=REPO)
    printed = shell_printed(cfg, procs, _CREATE_INBOX, "BENCH_", ("TOKEN", "ENDPOINT", "API_KEY"), 60, "the inbox")
    return Inbox(printed["TOKEN"], printed["ENDPOINT"], printed["API_KEY"])


def shell_printed(
    cfg: BenchConfig, procs: Processes, script: str, prefix: str, wanted: tuple[str, ...], timeout: float, what: str
) -> dict[str, str]:
    """Runs `script` in `manage.py shell` on the bench database and returns
    the `<prefix>NAME=value` lines it printed, by NAME; BenchError, with its
    output, when one of `wanted` is missing."""
    done = procs.run(
        [cfg.python, str(REPO / "manage.py"), "shell", "-c", script], timeout=timeout, env=cfg.django_env(), cwd=REPO
    )
    printed = {name: value.strip() for name, value in re.findall(rf"^{prefix}(\w+)=(.*)$", done.stdout, re.MULTILINE)}
    if not set(wanted) <= printed.keys():
        raise BenchError(f"manage.py shell did not print {what}:\n{done.stdout}\n{done.stderr}")
    return printed


def count_events(cfg: BenchConfig) -> int:
    with admin_connection(cfg, cfg.db_name) as conn:
        row = conn.execute("SELECT count(*) FROM events_event").fetchone()
    assert row is not None
    return int(row[0])  # type: ignore[call-overload]


def backend_pids(cfg: BenchConfig) -> list[int]:
    """Postgres backends connected to the bench database (the server's pool)."""
    with admin_connection(cfg) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (cfg.db_name,)
        ).fetchall()
    return [int(row[0]) for row in rows]  # type: ignore[call-overload]
