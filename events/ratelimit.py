"""Per-endpoint ingest rate limits, counted in Redis across server processes.

A fixed one-second window per endpoint: one INCRBY per limited endpoint per
batch (pipelined), so a batch of many requests costs one Redis round trip.
When Redis does not answer, requests are let through: losing a webhook is
worse than exceeding a limit for a moment.
"""

import logging
import time

import redis

from config import quick_redis

log = logging.getLogger(__name__)

def _key(endpoint_pk: int, second: int) -> str:
    return quick_redis.key("ratelimit", endpoint_pk, second)


def allowances(wanted: dict[int, tuple[int, int]]) -> dict[int, int]:
    """How many of `count` requests each endpoint may take now.

    `wanted` maps endpoint pk -> (limit per second, requests in this batch).
    """
    if not wanted:
        return {}
    second = int(time.time())
    try:
        pipe = quick_redis.client().pipeline(transaction=False)
        for pk, (_, count) in wanted.items():
            pipe.incrby(_key(pk, second), count)
            pipe.expire(_key(pk, second), 2)
        totals = pipe.execute()[::2]
    except redis.RedisError:
        log.warning("rate limits not enforced: Redis does not answer")
        return {pk: count for pk, (_, count) in wanted.items()}
    allowed = {}
    for (pk, (limit, count)), total in zip(wanted.items(), totals, strict=True):
        before = total - count
        allowed[pk] = max(0, min(count, limit - before))
    return allowed
