"""Per-endpoint deduplication of deliveries, across server processes.

A provider retrying, or delivering twice, sends the same delivery id (or the
same body). The first arrival claims `dedup:<endpoint>:<key>` in Redis with
SET NX GET and an expiry of the endpoint's window; a later one gets the
first event's id back. One pipelined round trip per batch, and none for a
batch without deduplicating endpoints. A claim whose event was not stored
(the insert failed) is released, so the sender's retry is not mistaken for a
duplicate of nothing. When Redis does not answer, nothing is deduplicated:
storing a webhook twice beats losing one.
"""

import hashlib
import logging

import redis

from config import quick_redis

from endpoints.models import DedupAction
from events.answers import json_answer

log = logging.getLogger(__name__)

def _key(endpoint_pk: int, dedup_key: str) -> str:
    # Hashed: delivery ids are sender-chosen and may be long.
    return quick_redis.key("dedup", endpoint_pk, hashlib.sha256(dedup_key.encode()).hexdigest())


def wanted(results: list) -> bool:
    return any(stored.dedup_key for stored in results)


def claim(results: list) -> list[str]:
    """Mark duplicates among the batch's `Stored` results; the keys claimed."""
    candidates = [stored for stored in results if stored.dedup_key and stored.event is not None]
    if not candidates:
        return []
    keys = [_key(stored.endpoint.pk, stored.dedup_key) for stored in candidates]
    try:
        pipe = quick_redis.client().pipeline(transaction=False)
        for stored, key in zip(candidates, keys, strict=True):
            pipe.set(key, stored.event.public_id, nx=True, ex=stored.endpoint.dedup_window_seconds, get=True)
        priors = pipe.execute()
    except redis.RedisError:
        log.warning("deduplication skipped: Redis does not answer")
        return []
    claimed = []
    for stored, key, prior in zip(candidates, keys, priors, strict=True):
        if prior is None:
            claimed.append(key)
            continue
        original = prior.decode()
        if stored.endpoint.dedup_action == DedupAction.DROP:
            stored.answer = json_answer(200, {"received": True, "event_id": original, "duplicate": True})
            stored.event = None
            stored.wake = False
        else:
            stored.event.duplicate_of = original
    return claimed


def claims_of(results: list, claimed: list[str]) -> list[str]:
    """Which of the `claimed` keys belong to these results."""
    if not claimed:
        return []
    mine = {_key(stored.endpoint.pk, stored.dedup_key) for stored in results if stored.dedup_key}
    return [key for key in claimed if key in mine]


def release(keys: list[str]) -> None:
    if not keys:
        return
    try:
        quick_redis.client().delete(*keys)
    except redis.RedisError:
        log.warning("could not release %d dedup claims; they expire with their window", len(keys))
