"""`make run`: web (HTTP + WebSocket), Celery worker and beat in the foreground.

Ctrl-C (or any of the three exiting) stops all of them.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import redis

from config.env import env_int

# A WebSocket message is at most 64 KiB by contract; uvicorn's default (16 MiB)
# would buffer a whole oversized frame before the consumer could refuse it.
WS_MAX_SIZE = 65536


def _check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        sys.exit(f"hookline: Redis does not answer at REDIS_URL={url} ({exc.__class__.__name__}). Start Redis or set REDIS_URL.")


def worker_command(name: str, concurrency: str = "2") -> list[str]:
    """One Celery worker process. Its threads only take wake-ups and the
    sweeper; the forwarding itself runs in the process's engine
    (deliveries/engine.py), DELIVERY_CONCURRENCY attempts at a time.

    Workers run at a lower CPU priority (WORKER_NICE, default 5) than the web
    server: answering a sender is what must never wait, and events that
    queue up meanwhile are claimed in larger, cheaper batches."""
    nice = env_int("WORKER_NICE", 5, minimum=0)
    return [*(["nice", "-n", str(nice)] if nice and shutil.which("nice") else []), sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "threads", "-c", concurrency,
            "--without-gossip", "--without-mingle", "-l", "WARNING", "-n", f"{name}@%h"]


def commands(port: str, web_workers: str, worker_processes: str) -> list[list[str]]:
    python = sys.executable
    return [
        [python, "-m", "uvicorn", "config.asgi:application", "--host", os.environ.get("HOST", "127.0.0.1"),
         "--port", port, "--workers", web_workers, "--no-access-log", "--lifespan", "off",
         # uvicorn's httptools protocol, answering /in/ without an ASGI task.
         "--http", "events.ingest_http:IngestHttpProtocol",
         # Small JSON messages gain little from deflate; per-socket compressors
         # cost ~40 KiB of memory each and ~20 % of fan-out CPU (make bench).
         "--ws-per-message-deflate", "false", "--ws-max-size", str(WS_MAX_SIZE),
         # Connections + requests in flight per process (WebSockets included);
         # past it uvicorn answers 503 instead of queueing without bound.
         "--limit-concurrency", str(env_int("WEB_LIMIT_CONCURRENCY", 4096, minimum=1))],
        *(worker_command(f"worker{n}") for n in range(1, int(worker_processes) + 1)),
        [python, "-m", "celery", "-A", "config", "beat", "-l", "WARNING",
         "--schedule", os.path.join(os.environ.get("TMPDIR", "/tmp"), f"hookline-beat-{port}")],
    ]


def main() -> None:
    _check_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    port = os.environ.get("PORT", "8000")
    children = [
        subprocess.Popen(cmd, start_new_session=True)
        for cmd in commands(port, os.environ.get("WEB_WORKERS", "2"), os.environ.get("WORKER_PROCESSES", str(os.cpu_count() or 1)))
    ]
    print(f"Hookline is running on http://127.0.0.1:{port}  (Ctrl-C stops it)", flush=True)

    def stop(*_args) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()


if __name__ == "__main__":
    main()
