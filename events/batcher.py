"""Group commit inside one process.

Concurrent requests hand their rows to a Batcher and await the outcome;
a flush writes everything that queued up meanwhile in a single transaction.
Under load many requests share one commit (measured on the 2-core box:
~2.7x from this alone); at rest a batch is one row and costs nothing extra.
Up to `max_inflight` flushes run at once, so one batch can fill while the
previous one waits for its commit.

Under load a flush may also linger, as PostgreSQL's `commit_delay` does when
`commit_siblings` transactions are open: once a flush carried at least
`siblings` items and fewer than that many are waiting, the next one waits up
to `linger` seconds for as many as the last one carried. Senders that wait
for each answer before the next request come back a few at a time; lingering
lets them share one commit instead of splitting into small ones. At rest
(batches below `siblings`) nothing waits, and a linger that runs out of time
(senders at a steady rate, not waiting on each other) is not repeated until
a flush fills up again without one.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
Done = Callable[[Any, Exception | None], None]


class Batcher(Generic[Item, Result]):
    def __init__(
        self,
        flush: Callable[[list[Item]], Awaitable[list[Result]]],
        max_batch: int = 500,
        max_inflight: int = 1,
        linger: float = 0.0,
        siblings: int = 2,
    ) -> None:
        # `flush` returns one result per item, in order, or raises to fail
        # every item of its batch.
        self._flush = flush
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._pending: list[tuple[Item, Done]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task] = set()
        self._linger = linger
        self._siblings = siblings
        self._last = 0  # items in the last flush
        self._enough: asyncio.Future | None = None  # done once a lingering flush has as many

    async def submit(self, item: Item) -> Result:
        future = asyncio.get_running_loop().create_future()
        self.submit_then(item, partial(_settle, future))
        return await future

    def submit_then(self, item: Item, done: "Done") -> None:
        """Calls `done(result, None)`, or `done(None, error)` when its batch
        failed, from the flush itself: no future per item (the ingest
        protocol answers from there)."""
        self._pending.append((item, done))
        if self._enough is not None and len(self._pending) >= self._last:
            resolve(self._enough, True)
        if self._inflight < self._max_inflight:
            self._inflight += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        try:
            while self._pending:
                filled = await self._gather() if self._lingers() else True
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                # A linger that ran out of time bought little: the next
                # flush goes at once, and lingers again only if it is full.
                self._last = len(batch) if filled else 0
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        _call(done, None, exc)
                    continue
                for (_, done), result in zip(batch, results, strict=True):
                    _call(done, result, None)
        finally:
            self._inflight -= 1

    def _lingers(self) -> bool:
        """After a flush of `siblings` or more, while fewer are waiting."""
        return (
            self._linger > 0 and self._enough is None
            and self._last >= self._siblings and len(self._pending) < self._last
        )

    async def _gather(self) -> bool:
        """Waits until as many items as the last flush carried are pending
        (True), or `linger` seconds (False)."""
        loop = asyncio.get_running_loop()
        self._enough = loop.create_future()
        timer = loop.call_later(self._linger, resolve, self._enough, False)
        try:
            return await self._enough
        finally:
            timer.cancel()
            self._enough = None


def resolve(future: asyncio.Future, value=None) -> None:
    """Sets `future`'s result unless it is done already (resolved, or
    cancelled by a server shutting down)."""
    if not future.done():
        future.set_result(value)


def _call(done: Done, result, error: Exception | None) -> None:
    try:
        done(result, error)
    except Exception:  # one caller's bug must not keep the rest of its batch waiting
        log.exception("a batch item's callback failed")


def _settle(future: asyncio.Future, result, error: Exception | None) -> None:
    if future.done():  # the caller gave up (cancelled)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
