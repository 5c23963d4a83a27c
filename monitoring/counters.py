"""Per-endpoint counters in Redis: what ingest, attempts and reports add up.

Hot paths only ever HINCRBY, once per batch in one script call
(`INCREMENT`) that the caller's pipeline carries: one hash per minute and
one per hour (`<prefix>:mon:m:<epoch>`, `…:mon:h:<epoch>`) with
fields `<endpoint pk>:<counter>`, and a never-expiring totals hash for
Prometheus. Beat copies the recent hashes into Rollup rows every minute
(monitoring.flush); the hashes live a few hours so a late flush loses
nothing. When Redis does not answer the counts of that moment are lost and
ingest carries on: a monitor must never cost a webhook.
"""

import bisect
import logging
from collections import defaultdict
from datetime import datetime, timedelta

import hiredis
import redis
from django.conf import settings
from django.utils import timezone
from redis import asyncio as aioredis

from config.hot_settings import hot
from monitoring.models import LATENCY_BOUNDS_MS

log = logging.getLogger(__name__)

KEY_TTL_SECONDS = 3 * 3600


def prefix() -> str:
    return hot("REDIS_PREFIX") + ":mon"


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def minute_key(start: datetime) -> str:
    return f"{prefix()}:m:{int(start.timestamp())}"


def hour_key(start: datetime) -> str:
    return f"{prefix()}:h:{int(start.timestamp())}"


def totals_key() -> str:
    return f"{prefix()}:total"


def latency_bucket(duration_ms: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS_MS, duration_ms)


class Tally:
    """Counts gathered while handling one batch, sent in one pipeline."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, endpoint_pk: int, counter: str, amount: int = 1) -> None:
        if amount:
            self.counts[f"{endpoint_pk}:{counter}"] += amount

    def latency(self, endpoint_pk: int, duration_ms: float) -> None:
        self.counts[f"{endpoint_pk}:lat{latency_bucket(duration_ms)}"] += 1
        self.counts[f"{endpoint_pk}:lat_sum_ms"] += int(duration_ms)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def queue(self, pipe) -> None:
        if not self.counts:
            return
        minute, hour = minute_key(floor_minute(self.now)), hour_key(floor_hour(self.now))
        pairs = [part for field, amount in self.counts.items() for part in (field, amount)]
        pipe.eval(INCREMENT, 3, minute, hour, totals_key(), KEY_TTL_SECONDS, *pairs)


# KEYS: the minute, hour and totals hashes; ARGV: the TTL of the first two,
# then field, amount pairs. One command instead of three per field: packing
# commands was most of a batch's Redis cost in the client (redis-py).
INCREMENT = """
for i = 2, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 0
"""


_client: redis.Redis | None = None
_async_clients: dict[object, aioredis.Redis] = {}


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def async_client() -> aioredis.Redis:
    """This event loop's redis-py client: the event-loop pipelines' way to a
    Redis URL that config/redis_wire.py does not speak (TLS, a socket)."""
    import asyncio

    loop = asyncio.get_running_loop()
    found = _async_clients.get(loop)
    if found is None:
        found = _async_clients[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
    return found


def send(tally: Tally) -> None:
    if not tally:
        return
    try:
        pipe = client().pipeline(transaction=False)
        tally.queue(pipe)
        pipe.execute()
    except redis.RedisError:
        log.warning("monitoring counts lost: Redis does not answer")


async def send_async(tally: Tally) -> None:
    """From an event loop (ingest, reports), on its hiredis connection."""
    from config import redis_wire

    if not tally:
        return
    try:
        pipe = redis_wire.pipeline()
        tally.queue(pipe)
        await pipe.execute()
    # redis-py's errors, or the wire connection's (a lost or refused
    # connection and a timeout are OSErrors, an error reply hiredis').
    except (redis.RedisError, OSError, hiredis.ReplyError):
        log.warning("monitoring counts lost: Redis does not answer")


def parse_hash(raw: dict[bytes, bytes]) -> dict[int, dict[str, int]]:
    """{endpoint pk: {counter or "lat<i>": n}} from one minute or hour hash."""
    parsed: dict[int, dict[str, int]] = defaultdict(dict)
    for field, value in raw.items():
        pk, _, name = field.decode().partition(":")
        parsed[int(pk)][name] = int(value)
    return parsed


def read_minutes(starts: list[datetime]) -> dict[datetime, dict[int, dict[str, int]]]:
    """The live counts of these minutes, as far as Redis still holds them."""
    pipe = client().pipeline(transaction=False)
    for start in starts:
        pipe.hgetall(minute_key(start))
    return {start: parse_hash(raw) for start, raw in zip(starts, pipe.execute(), strict=True)}


def read_hours(starts: list[datetime]) -> dict[datetime, dict[int, dict[str, int]]]:
    pipe = client().pipeline(transaction=False)
    for start in starts:
        pipe.hgetall(hour_key(start))
    return {start: parse_hash(raw) for start, raw in zip(starts, pipe.execute(), strict=True)}


def read_totals() -> dict[int, dict[str, int]]:
    return parse_hash(client().hgetall(totals_key()))


def recent_minutes(now: datetime, count: int) -> list[datetime]:
    """The current minute and the `count - 1` before it, oldest first."""
    current = floor_minute(now)
    return [current - timedelta(minutes=back) for back in range(count - 1, -1, -1)]
