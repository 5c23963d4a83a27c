"""Waking forwarding engines the moment ingest stores due events.

Ingest adds one LPUSH to the Redis pipeline it sends after each batch
anyway; each engine waits on the list with BLPOP, so a wake-up reaches one
engine (the first free to take it) instead of every engine claiming for the
same few events: with two worker processes woken by a PUBLISH per batch,
most claims came back empty or nearly so. The list is trimmed to a few
entries, so nothing piles up while no engine runs. A wake-up is a hint, not
a job: one lost while an engine restarts or Redis is away
costs at most DELIVERY_POLL_SECONDS, because engines also look for due
events on their own, and beat's sweeper wakes them as a last resort.
Callers outside the hot path (replay, resume) still send the Celery task
`forward_due`, which wakes the engine of whichever worker takes it.
"""

import logging
import threading
from collections.abc import Callable

import redis
from django.conf import settings

from config import quick_redis

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1.0


# More wake-ups than this waiting means every engine is busy already.
BACKLOG = 8


def key() -> str:
    return quick_redis.key("forwarding", "due")


def queue(pipe) -> None:
    """Add the wake-up to a Redis pipeline the caller sends anyway."""
    pipe.lpush(key(), b"1")
    pipe.ltrim(key(), 0, BACKLOG - 1)


def listen(wake: Callable[[], None], idle: threading.Event, stopping: threading.Event) -> None:
    """Take wake-ups while the engine is `idle` and call `wake` on each, until
    `stopping` is set (a thread's body). A busy engine leaves them to the
    others: it looks for due events again anyway once its step is over."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    while not stopping.is_set():
        if not idle.wait(1.0):
            continue
        try:
            if client.blpop([key()], timeout=1) is not None:
                wake()
        except (redis.RedisError, OSError):
            log.warning("forwarding wake-ups: Redis does not answer; polling until it does")
            stopping.wait(RECONNECT_SECONDS)
