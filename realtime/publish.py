"""Publishing realtime messages to channel-layer groups.

Async callers (the ingest path) await `publish`; sync callers (Celery tasks,
views) use `publish_sync`, which hands the send to one long-lived event loop
per process instead of creating a loop per call (the Redis pub/sub layer keeps
connections per loop, so a loop per call would leak them).
"""

import asyncio
import logging
import threading
from typing import Any

import orjson
from channels.layers import get_channel_layer
from django.conf import settings

log = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def layer_message(message: dict[str, Any]) -> dict[str, Any]:
    """Channel-layer wrapper: the contract type routes to a consumer method.

    `text` is the message as clients receive it, encoded here once instead
    of once per socket (a fan-out to 1,000 sockets encoded it 1,000 times).
    """
    return {"type": message["type"], "message": message, "text": orjson.dumps(message).decode()}


async def publish(group: str, message: dict[str, Any]) -> None:
    try:
        await get_channel_layer().group_send(group, layer_message(message))
    except Exception:  # a Redis outage must never fail ingest or delivery
        log.exception("could not publish %s to %s", message["type"], group)


# A layer message that carries several messages of one group, in order
# (realtime/layer.py hands them out one by one).
BATCH = "hookline.batch"


def queue_many(pipe, items: list[tuple[str, dict[str, Any]]]) -> None:
    """Add group messages to a Redis pipeline: one PUBLISH per group.

    The pub/sub layer sends each group_send on its own, one after another
    under a lock; for a batch of ingested events that was the largest cost
    of the hot path. Here the messages of each group go out as one layer
    message, with the layer's own channel names and serialisation, in the
    caller's pipeline. Each group keeps its order; messages of different
    groups in one batch came from concurrent requests and have none.
    """
    layer = get_channel_layer()
    groups: dict[str, list[dict[str, Any]]] = {}
    for group, message in items:
        groups.setdefault(group, []).append(layer_message(message))
    for group, messages in groups.items():
        payload = messages[0] if len(messages) == 1 else {"type": BATCH, "messages": messages}
        pipe.publish(group_channel(group), layer.serialize(payload))


def group_channel(group: str) -> str:
    """The pub/sub layer's Redis channel for a group (its own method needs a
    running event loop; the forwarding engine's driver thread has none)."""
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}__group__{group}"


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="realtime-publisher", daemon=True).start()
        return _loop


def publish_sync(group: str, message: dict[str, Any]) -> None:
    # Waiting for the send keeps messages of one event in the order they
    # were produced (retrying before delivered).
    future = asyncio.run_coroutine_threadsafe(publish(group, message), _publisher_loop())
    try:
        future.result(timeout=5)
    except Exception:
        log.exception("publishing %s to %s timed out", message["type"], group)


def publish_on_commit(group: str, message: dict[str, Any]) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: publish_sync(group, message))
