"""`hookline listen`: stream an endpoint's events and forward each to a local URL.

One reader task keeps the WebSocket (`/v1/ws`) and queues every new event
id in arrival order; one forwarder task fetches each event's request over
the REST API and sends it on, one at a time, so the target sees events in
the order the server stored them. The queue outlives connections.

No skip, no duplicate across drops: the reader remembers the newest event
id it queued and resubscribes with `since` set to it, so the server replays
what arrived while we were away before live messages; ids already queued
are never queued again. A `dropped` notice (we fell too far behind) or a
first connection with nothing seen yet is caught up from the REST list.
"""

import asyncio
import json
import random
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import websockets

from hookline_cli.api import Api
from hookline_cli.errors import Fatal
from hookline_cli.forward import Route, forward, target_for

BACKOFF_MIN = 0.5
BACKOFF_MAX = 10.0
CLOSE_UNAUTHORIZED = 4001
SEEN_LIMIT = 10_000


@dataclass
class Options:
    endpoint: str  # "ep_…" or "*"
    server: str
    token: str
    forward_to: str | None
    routes: list[Route] = field(default_factory=list)


class Seen:
    """Event ids already queued, the oldest forgotten past a bound."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def add(self, event_id: str) -> bool:
        """False when the id was already there."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._limit:
            self._ids.popitem(last=False)
        return True


def ws_url(server: str, token: str) -> str:
    parts = urlsplit(server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/v1/ws", f"token={quote(token)}", ""))


class Listener:
    def __init__(self, options: Options, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.options = options
        self.api = Api(options.server, options.token)
        self.out = out
        self.err = err
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.seen = Seen()
        self.newest: str | None = None  # the newest event id queued (or present at start)
        self.anchored = False  # whether `newest` has been set from the server once
        self.resumed_from: str | None = None  # the `since` of the current subscription
        self.failures = 0  # connection attempts since the last good subscription

    # --- output -------------------------------------------------------------

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def warn(self, line: str) -> None:
        print(f"hookline: {line}", file=self.err, flush=True)

    # --- running ------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.to_thread(self.api.check, self.options.endpoint)
        forwarder = asyncio.create_task(self._forward_loop())
        try:
            await self._read_forever()
        finally:
            forwarder.cancel()

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._session()
                reason = "the server closed the stream"
            except websockets.ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == CLOSE_UNAUTHORIZED:
                    raise Fatal("the server refused the token (check --token or HOOKLINE_TOKEN)") from None
                reason = f"connection lost ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
            except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake, requests.RequestException) as exc:
                reason = f"cannot reach {self.options.server} ({exc.__class__.__name__})"
            self.failures += 1
            delay = min(BACKOFF_MAX, BACKOFF_MIN * 2 ** (self.failures - 1)) * random.uniform(0.75, 1.0)
            self.warn(f"{reason}; reconnecting in {delay:.1f} s")
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        async with websockets.connect(
            ws_url(self.options.server, self.options.token), open_timeout=10, ping_interval=20, max_size=2**22
        ) as ws:
            since = self.resumed_from = self.newest
            request = {"type": "subscribe", "endpoints": [self.options.endpoint]}
            if since:
                request["since"] = since
            await ws.send(json.dumps(request))
            await self._await_subscribed(ws)
            self.failures = 0
            if not self.anchored:
                # Subscribed first, then the anchor: anything stored after the
                # subscription arrives live, anything before it is history.
                ids = await asyncio.to_thread(self.api.event_ids, self.options.endpoint, None, 1)
                self.newest = ids[-1] if ids else None
                self.anchored = True
                self.say(f"Ready: forwarding events of {self.options.endpoint} (Ctrl-C stops)")
            else:
                self.warn(f"reconnected; resuming after {since or 'the start'}")
                if since is None:
                    await self._catch_up(None)
            async for raw in ws:
                await self._handle(ws, json.loads(raw))

    async def _await_subscribed(self, ws) -> None:
        async with asyncio.timeout(15):
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "subscribed":
                    return
                if message.get("type") == "error":
                    raise Fatal(f"the server refused the subscription: {message.get('detail')}")
                await self._handle(ws, message)

    async def _handle(self, ws, message: dict) -> None:
        kind = message.get("type")
        if kind == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif kind == "event.received":
            self._enqueue(message["data"]["id"])
        elif kind == "dropped":
            # Which messages were dropped is unknown: list everything since
            # this subscription began; ids already queued are skipped.
            await self._catch_up(self.resumed_from)
        elif kind == "error":
            self.warn(f"server: {message.get('detail')}")

    async def _catch_up(self, since: str | None) -> None:
        for event_id in await asyncio.to_thread(self.api.event_ids, self.options.endpoint, since):
            self._enqueue(event_id)

    def _enqueue(self, event_id: str) -> None:
        if self.seen.add(event_id):
            self.newest = event_id
            self.queue.put_nowait(event_id)

    # --- forwarding ---------------------------------------------------------

    async def _forward_loop(self) -> None:
        while True:
            event_id = await self.queue.get()
            await self._forward_one(event_id)

    async def _forward_one(self, event_id: str) -> None:
        failures = 0
        while True:
            try:
                request = await asyncio.to_thread(self.api.event, event_id)
                break
            except requests.HTTPError as exc:
                if exc.response is not None and exc.response.status_code == 404:
                    self.say(f"{_now()}  {'-':<24} {event_id}  not forwarded: deleted on the server")
                    return
                failures += 1
            except requests.RequestException:
                failures += 1  # the server is restarting: the event is still owed
            await asyncio.sleep(min(BACKOFF_MAX, BACKOFF_MIN * 2 ** failures))
        target = target_for(request.event_type, self.options.routes, self.options.forward_to)
        label = f"{_now()}  {request.event_type or '-':<24} {request.id}"
        if target is None:
            self.say(f"{label}  not forwarded: no --route matches and no --forward-to")
            return
        outcome = await asyncio.to_thread(forward, request, target)
        if outcome.error:
            self.say(f"{label}  not forwarded: {outcome.error}  {outcome.milliseconds} ms")
        else:
            self.say(f"{label}  {request.method} {target} -> {outcome.status}  {outcome.milliseconds} ms")


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")
