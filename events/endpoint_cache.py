"""Ingest's endpoints by token, as this process last read them.

Each entry keeps the row version it was read at (PostgreSQL's `xmin`,
which every UPDATE of the row replaces). Ingest's INSERT stores an event
only while its endpoint's row still has that version, so a cached endpoint
is never acted on after a change: the events of a changed or deleted
endpoint come back unstored, its entry is dropped, and those arrivals are
planned again from a fresh read (events/store.py). In the steady state a
batch costs one statement instead of a lookup and an INSERT.

Tokens that match nothing are not kept: each of their batches reads again.
"""

from endpoints.models import Endpoint


class EndpointCache:
    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._entries: dict[str, tuple[Endpoint, str]] = {}

    def get(self, token: str) -> tuple[Endpoint, str] | None:
        return self._entries.get(token)

    def put(self, token: str, endpoint: Endpoint, version: str) -> None:
        if token not in self._entries and len(self._entries) >= self._limit:
            del self._entries[next(iter(self._entries))]  # the oldest read
        self._entries[token] = (endpoint, version)

    def drop(self, token: str) -> None:
        self._entries.pop(token, None)
