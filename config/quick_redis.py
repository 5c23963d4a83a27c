"""One Redis client per process for small counters on request paths.

Rate limits, dedup claims and test-session limits all want the same thing:
short timeouts (a slow Redis must not hold up a webhook; each caller lets
the request through when Redis does not answer) and keys under this run's
prefix, so parallel test runs and installations sharing a Redis never meet.
"""

import redis
from django.conf import settings

_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _client


def key(*parts: object) -> str:
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    return ":".join([prefix, *map(str, parts)])
