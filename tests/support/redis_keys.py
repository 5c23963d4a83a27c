"""What `flushdb` would do to one test run, without touching other runs.

Every Redis key of an installation (Celery's queues and bookkeeping included)
starts with its REDIS_PREFIX, and each test run has its own prefix.
"""

import redis
from django.conf import settings


def run_keys(client: redis.Redis) -> list[bytes]:
    return list(client.scan_iter(match=f"{settings.REDIS_PREFIX}:*", count=1000))


def drop_run_keys(client: redis.Redis) -> int:
    keys = run_keys(client)
    if keys:
        client.delete(*keys)
    return len(keys)
