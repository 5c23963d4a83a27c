"""How many test sessions one source IP may open per hour, counted in Redis.

A fixed one-hour window per IP, shared by every server process. When Redis
does not answer, creation is let through (as ingest's rate limits are): a
developer trying the product matters more than a moment without a limit.
"""

import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings

from config import quick_redis

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600

@dataclass
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window resets, when refused


def take(source_ip: str | None) -> Verdict:
    now = int(time.time())
    window = now // WINDOW_SECONDS
    key = quick_redis.key("test-sessions", source_ip or "unknown", window)
    try:
        pipe = quick_redis.client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS)
        count = pipe.execute()[0]
    except redis.RedisError:
        log.warning("test session limit not enforced: Redis does not answer")
        return Verdict(True)
    if count > settings.TEST_SESSIONS_PER_IP_PER_HOUR:
        return Verdict(False, retry_after=(window + 1) * WINDOW_SECONDS - now)
    return Verdict(True)
