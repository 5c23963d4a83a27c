"""The channel layer: channels_redis' pub/sub layer, with one decode per
process for a group message and a direct hand-off to idle consumers.

The stock layer puts a group message's raw bytes on the queue of every
member channel of this process, and each consumer then decodes it, wakes
its receive task, goes through Channels' `asyncio.wait` loop and creates a
new receive task: for one event fanned out to 1,000 sockets that is most of
the server's CPU. Here the message is decoded once for the whole group; a
consumer that attached a handler gets it synchronously, and the handler
says whether it took it. Whatever it does not take goes on the channel's
queue as before (already decoded), so a busy consumer still sees its
messages in order, one at a time. A batch of one group's messages
(`realtime.publish.queue_many`) is decoded once and handed out message by
message, in order.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close

from realtime.publish import BATCH

log = logging.getLogger(__name__)

# Called with the decoded message; True when it took the message.
Handler = Callable[[dict[str, Any]], bool]


class _Shard(RedisSingleShardConnection):
    def _receive_message(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        local = self.channel_layer
        members = local.groups.get(name)
        if name in local.channels or members is None:
            super()._receive_message(message)  # a message to one channel
            return
        decoded = local.channel_layer.deserialize(message["data"])
        members = tuple(members)
        for one in decoded["messages"] if decoded.get("type") == BATCH else (decoded,):
            self._hand_out(one, members)

    def _hand_out(self, decoded: dict[str, Any], members: tuple[str, ...]) -> None:
        local = self.channel_layer
        for channel in members:
            queue = local.channels.get(channel)
            if queue is None:
                continue
            handler = local.handlers.get(channel)
            try:
                if handler is not None and handler(decoded):
                    continue
            except Exception:  # one consumer's bug must not cost the others their message
                log.exception("a consumer's handler failed on %r", decoded.get("type"))
                continue
            queue.put_nowait(decoded)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]
        self.handlers: dict[str, Handler] = {}


class FanoutChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self) -> _LoopLayer:
        # As the parent's, with our loop layer: connections belong to a loop.
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer

    def deserialize(self, message: bytes | dict[str, Any]) -> dict[str, Any]:
        if isinstance(message, dict):  # decoded once for its whole group
            return message
        return super().deserialize(message)

    def attach(self, channel: str, handler: Handler) -> None:
        """Offer this channel's group messages to `handler` before its queue."""
        self._get_layer().handlers[channel] = handler

    def detach(self, channel: str) -> None:
        self._get_layer().handlers.pop(channel, None)
