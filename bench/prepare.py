"""A fresh database and Redis db, migrated, with one user and one inbox
endpoint (no destination: nothing is forwarded)."""

from __future__ import annotations

import psycopg
import redis
from psycopg import sql

from bench.config import REPO, BenchConfig
from bench.procs import BenchError, Processes

_CREATE_INBOX = """
from django.contrib.auth import get_user_model
from endpoints.models import Endpoint
owner = get_user_model().objects.create_user("bench")
endpoint = Endpoint.objects.create(owner=owner, name="bench inbox")
assert not endpoint.destination_url
print("BENCH_TOKEN=" + endpoint.ingest_token)
"""


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


def migrate_and_create_inbox(cfg: BenchConfig, procs: Processes) -> str:
    """Runs the migrations and returns the ingest token of a new inbox."""
    env = cfg.django_env()
    manage = str(REPO / "manage.py")
    procs.run([cfg.python, manage, "migrate", "--noinput", "-v", "0"], timeout=120, env=env, cwd=REPO)
    done = procs.run([cfg.python, manage, "shell", "-c", _CREATE_INBOX], timeout=60, env=env, cwd=REPO)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_TOKEN="):
            return line.removeprefix("BENCH_TOKEN=").strip()
    raise BenchError(f"manage.py shell printed no token:\n{done.stdout}\n{done.stderr}")


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
