"""Waking forwarding engines the moment ingest stores due events.

Ingest adds one PUBLISH to the Redis pipeline it sends after each batch
anyway; every engine listens on the channel and claims at once. A wake-up
is a hint, not a job: one lost while an engine restarts or Redis is away
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


def channel() -> str:
    return quick_redis.key("forwarding", "due")


def queue(pipe) -> None:
    """Add the wake-up to a Redis pipeline the caller sends anyway."""
    pipe.publish(channel(), b"1")


def listen(wake: Callable[[], None], stopping: threading.Event) -> None:
    """Call `wake` on each wake-up until `stopping` is set (a thread's body)."""
    while not stopping.is_set():
        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, health_check_interval=30)
            with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                pubsub.subscribe(channel())
                wake()  # wake-ups sent while we were not listening
                while not stopping.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        wake()
        except (redis.RedisError, OSError):
            log.warning("forwarding wake-ups: Redis does not answer; polling until it does")
            stopping.wait(RECONNECT_SECONDS)
