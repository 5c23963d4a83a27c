"""Group commit inside one process.

Concurrent requests hand their rows to a Batcher and await the outcome; one
flush at a time writes everything that queued up meanwhile in a single
transaction. Under load many requests share one commit (shared/PERFORMANCE.md
measured ~2.7x from this alone); at rest a batch is one row and costs nothing
extra.
"""

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    def __init__(self, flush: Callable[[list[Item]], Any], max_batch: int = 500) -> None:
        # `flush` is an async callable: list of items -> list of results in
        # the same order, or an exception that fails every item of the batch.
        self._flush = flush
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future]] = []
        self._running: asyncio.Task | None = None

    async def submit(self, item: Item) -> Result:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._running = None
