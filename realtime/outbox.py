"""A connection's bounded queue of outgoing messages.

The Redis pub/sub layer has no per-channel capacity, so a socket that reads
slowly would otherwise grow its backlog in this process without limit. The
group receive loop only ever puts here (never waits on the socket); one
sender task per connection drains the queue to the socket.
"""

import asyncio
from collections import deque
from typing import Any

from realtime.envelope import envelope

Message = dict[str, Any]
# A message and its JSON text when the publisher encoded it already.
Item = tuple[Message, str | None]


def _is_control(item: Item) -> bool:
    return item[0]["channel"] == "control"


class Outbox:
    """Holds at most `size` data messages, dropping the oldest when full.

    Control messages (answers to the client's own requests, pings) do not
    count against the size and are never dropped for data: losing a
    `subscribed` would leave the client unsure what it receives. Only a
    client that keeps sending requests without reading can fill the queue
    with them; past twice the size, new ones are discarded.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: deque[Item] = deque()
        self._data = 0  # data messages in _items
        self._dropped = 0
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, message: Message, text: str | None = None) -> None:
        item = (message, text)
        if _is_control(item):
            if len(self._items) >= 2 * self._size:
                return
        else:
            if self._data >= self._size:
                self._drop_oldest_data()
            self._data += 1
        self._items.append(item)
        self._ready.set()

    def note_dropped(self, count: int) -> None:
        """Count messages that never entered the queue (a replay cut short)."""
        if count > 0:
            self._dropped += count
            self._ready.set()

    def _drop_oldest_data(self) -> None:
        for index, item in enumerate(self._items):
            if not _is_control(item):
                del self._items[index]
                self._data -= 1
                self._dropped += 1
                return

    async def get(self) -> Item:
        """The next message; one `dropped` notice once the queue has drained."""
        while True:
            if self._items:
                item = self._items.popleft()
                if not _is_control(item):
                    self._data -= 1
                return item
            if self._dropped:
                count, self._dropped = self._dropped, 0
                return envelope("dropped", count=count), None
            self._ready.clear()
            await self._ready.wait()
