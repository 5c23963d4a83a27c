"""The load generator's own garbage collector, paused while it measures.

The bench process drives the open loops and holds the WebSocket clients in
its own event loop, and by the later sections it holds the figures of the
earlier ones: its full collections took 19-33 ms (gc.callbacks on the run)
and every request or message in flight meanwhile was counted late, as if
the server had been slow. While a load runs, the collector is off and what
the process held before is frozen out of its reach; refcounting still frees
everything that is not a cycle. It is switched back on when the load ends.
"""

import gc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def without_collector(load: Callable[[], T]) -> T:
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return load()
    finally:
        gc.enable()
        gc.unfreeze()
