"""Per-user connection slots, counted across processes in Redis.

One sorted set per user; each open socket is a member scored by the moment
its slot lapses. Sockets refresh their score on every heartbeat, and every
acquire first evicts lapsed members, so a process that crashed without
releasing its slots leaks them only until their score passes. Scripts run
atomically in Redis and read Redis's clock, so processes on hosts with
skewed clocks still agree.
"""

import asyncio
import weakref

from django.conf import settings
from redis import asyncio as aioredis

_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false
   and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 1)
return 1
"""

_REFRESH = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""

# redis.asyncio connections belong to the event loop that opened them.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()


def _client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # A blocking pool: a burst of connects or disconnects waits for a
        # free Redis connection instead of failing at redis-py's default cap.
        pool = aioredis.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=16, timeout=5)
        client = aioredis.Redis(connection_pool=pool)
        _clients[loop] = client
    return client


def slot_key(user_id: int) -> str:
    # The channel layer's prefix keeps parallel test runs (and deployments
    # sharing one Redis) apart.
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    return f"{prefix}:ws-connections:{user_id}"


def slot_ttl() -> float:
    """How long a slot outlives its last heartbeat: three missed pings."""
    return max(3 * settings.WS_PING_SECONDS, 10.0)


async def acquire(user_id: int, connection_id: str) -> bool:
    limit = settings.WS_MAX_CONNECTIONS_PER_USER
    taken = await _client().eval(_ACQUIRE, 1, slot_key(user_id), connection_id, limit, slot_ttl())
    return bool(taken)


async def refresh(user_id: int, connection_id: str) -> None:
    await _client().eval(_REFRESH, 1, slot_key(user_id), connection_id, slot_ttl())


async def release(user_id: int, connection_id: str) -> None:
    await _client().zrem(slot_key(user_id), connection_id)
